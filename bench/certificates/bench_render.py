"""Certificate PDF rendering: time per render, PDF size, worker memory.

    .venv/bin/python bench/certificates/bench_render.py [--renders 500]

Renders bilingual certificates with CJK text (names cycle through common and
rare characters) in one warm process, as a rendering worker does. Prints a
JSON line and a Markdown table. No database needed.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings.dev")

NAMES = [
    "刘建华",
    "王芳",
    "陈志强",
    "张丽娟",
    "李明",
    "赵喆",
    "孙赟",
    "周㛃",
    "刘堃",
    "欧阳晓明",
]
COURSES = [
    "压力表检定与校准",
    "测量不确定度评定",
    "能源计量器具配备与管理",
    "计量器具的期间核查",
]


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=500)
    args = parser.parse_args()

    import django

    django.setup()
    from certificates import pdf
    from certificates.admin_views import sample_certificate
    from certificates.rendering import certificate_context

    certificate = sample_certificate()
    pdf.render_certificate(certificate_context(certificate))  # warm up
    rss_start = rss_mb()
    wall, cpu, sizes, rss_marks = [], [], [], {}
    common_wall = []
    for index in range(args.renders):
        certificate.holder_name = NAMES[index % len(NAMES)]
        certificate.course_title = COURSES[index % len(COURSES)]
        certificate.serial = f"MTA-2026-{index + 1:06d}"
        context = certificate_context(certificate)
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        data = pdf.render_certificate(context)
        elapsed = (time.perf_counter() - started_wall) * 1000
        wall.append(elapsed)
        cpu.append((time.process_time() - started_cpu) * 1000)
        sizes.append(len(data))
        if index % len(NAMES) < 5:
            common_wall.append(elapsed)
        if (index + 1) in (50, 100, 250, 500, args.renders):
            rss_marks[index + 1] = round(rss_mb(), 1)
    result = {
        "renders": args.renders,
        "median_ms": round(statistics.median(wall), 1),
        "p95_ms": round(statistics.quantiles(wall, n=20)[18], 1),
        "median_cpu_ms": round(statistics.median(cpu), 1),
        "median_ms_gb2312_names": round(statistics.median(common_wall), 1),
        "pdf_kb_median": round(statistics.median(sizes) / 1024, 1),
        "pdf_kb_max": round(max(sizes) / 1024, 1),
        "rss_mb_after_warmup": round(rss_start, 1),
        "rss_mb": rss_marks,
        "max_rss_mb": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
        ),
        "fonts": [face["url"].rsplit("/", 1)[1] for face in pdf.font_faces()],
        "harfbuzz_subset": pdf.harfbuzz_subset_available(),
        "load_average": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
