"""Certificate PDF rendering: time per render, PDF size, renderer memory.

    .venv/bin/python bench/certificates/bench_render.py [--renders 500] [--in-process]

Renders bilingual certificates with CJK text (names cycle through common and
rare characters) as production does: the task worker sends each context to
its renderer process (``certificates.renderer``, CERTIFICATES_RENDER_PROCESSES
= 1) and gets the PDF back; the time includes that round trip. The renderer
is not recycled during the run (CERTIFICATES_RENDERER_MAX_RENDERS = 0), so the
memory figures are its steady state. ``--in-process`` renders inside this
Django process instead. Prints a JSON line. No database needed.
"""

import argparse
import json
import os
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


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU time of a process (clock-tick resolution)."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--renders", type=int, default=500)
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()

    import django
    from django.conf import settings

    django.setup()
    settings.CERTIFICATES_RENDER_PROCESSES = 0 if args.in_process else 1
    settings.CERTIFICATES_RENDERER_MAX_RENDERS = 0
    from certificates import fontbuild, renderer
    from certificates.admin_views import sample_certificate
    from certificates.rendering import certificate_context

    certificate = sample_certificate()
    renderer.render_certificate_pdf(certificate_context(certificate))  # warm up
    pid = (renderer.renderer_pids() or ["self"])[0]
    rss_start = rss_mb(pid)
    cpu_start = cpu_seconds(pid)
    wall, sizes, rss_marks = [], [], {}
    common_wall = []
    for index in range(args.renders):
        certificate.holder_name = NAMES[index % len(NAMES)]
        certificate.course_title = COURSES[index % len(COURSES)]
        certificate.serial = f"MTA-2026-{index + 1:06d}"
        context = certificate_context(certificate)
        started_wall = time.perf_counter()
        data = renderer.render_certificate_pdf(context)
        elapsed = (time.perf_counter() - started_wall) * 1000
        wall.append(elapsed)
        sizes.append(len(data))
        if index % len(NAMES) < 5:
            common_wall.append(elapsed)
        if (index + 1) in (50, 100, 250, 500, args.renders):
            rss_marks[index + 1] = round(rss_mb(pid), 1)
    renderer_cpu_ms = (cpu_seconds(pid) - cpu_start) * 1000 / args.renders
    result = {
        "renders": args.renders,
        "median_ms": round(statistics.median(wall), 1),
        "p95_ms": round(statistics.quantiles(wall, n=20)[18], 1),
        # Mean CPU of the rendering process per render (the renderer's own
        # clock; in-process runs include this process's share of the loop).
        "mean_cpu_ms": round(renderer_cpu_ms, 1),
        "median_ms_gb2312_names": round(statistics.median(common_wall), 1),
        "pdf_kb_median": round(statistics.median(sizes) / 1024, 1),
        "pdf_kb_max": round(max(sizes) / 1024, 1),
        "renderer": "in process" if pid == "self" else "renderer process",
        "rss_mb_after_warmup": round(rss_start, 1),
        "rss_mb": rss_marks,
        "renderer_peak_rss_mb": _peak_rss_mb(pid),
        "worker_rss_mb": round(rss_mb(), 1),
        "fonts": sorted(fontbuild.built_font_paths()),
        "load_average": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
