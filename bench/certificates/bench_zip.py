"""HR ZIP of stored certificates: first byte, total time, memory.

    .venv/bin/python bench/certificates/bench_zip.py [--certificates 1000]

Stores N rendered PDFs (one real render, copied N times under their serials)
in a temporary private storage, then consumes ``exports.zip_stream`` exactly
as the StreamingHttpResponse does, timing the first chunk and the whole
archive, and tracking peak Python memory and RSS. The database query that
feeds the stream is not included (it is a single indexed query).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings.dev")


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--certificates", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.files.storage import FileSystemStorage
    from django.utils import timezone

    from certificates import exports, pdf
    from certificates.admin_views import sample_certificate
    from certificates.models import Certificate, RenderStatus
    from certificates.rendering import certificate_context

    directory = tempfile.mkdtemp(prefix="bench-zip-")
    storage = FileSystemStorage(location=directory)
    data = pdf.render_certificate(certificate_context(sample_certificate()))
    certificates = []
    for index in range(args.certificates):
        certificate = sample_certificate()
        certificate.serial = f"MTA-2026-{index + 1:06d}"
        certificate.employee_number = f"HZ-{index:04d}"
        certificate.holder_name = ["刘建华", "王芳", "周㛃", "赵喆"][index % 4]
        name = f"certificates/2026/{certificate.serial}.pdf"
        path = Path(directory) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        certificate.pdf.name = name
        certificate.pdf.storage = storage
        certificate.pdf_sha256 = "0" * 64
        certificate.render_status = RenderStatus.READY
        certificate.rendered_at = timezone.now()
        certificates.append(certificate)
    assert isinstance(certificates[0], Certificate)

    runs = []
    for _run in range(args.runs):
        tracemalloc.start()
        rss_before = rss_mb()
        started = time.perf_counter()
        first = None
        total = 0
        out = Path(directory) / "out.zip"
        with open(out, "wb") as sink:  # stands in for the socket
            for chunk in exports.zip_stream(iter(certificates)):
                if first is None:
                    first = time.perf_counter() - started
                total += len(chunk)
                sink.write(chunk)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        with zipfile.ZipFile(out) as archive:
            assert archive.testzip() is None
            count = len(archive.namelist())
        runs.append(
            {
                "first_chunk_ms": round(first * 1000, 1),
                "total_s": round(elapsed, 2),
                "zip_mb": round(total / 2**20, 1),
                "entries": count,
                "python_peak_mb": round(peak / 2**20, 1),
                "rss_growth_mb": round(rss_mb() - rss_before, 1),
            }
        )
    result = {
        "certificates": args.certificates,
        "pdf_kb": round(len(data) / 1024, 1),
        "first_chunk_ms_median": statistics.median(r["first_chunk_ms"] for r in runs),
        "total_s_median": statistics.median(r["total_s"] for r in runs),
        "runs": runs,
        "load_average": os.getloadavg()[0],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
