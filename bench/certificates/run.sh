#!/usr/bin/env bash
# Every certificate benchmark of the certificates issue in one command, judged
# against its targets (about 2 minutes; run it on an otherwise idle machine):
#
#   flock /tmp/bench.lock bench/certificates/run.sh
#
# 1. bench_render.py --renders 500: median render, PDF size, renderer memory;
# 2. bench_zip.py --certificates 1000: HR ZIP first byte, whole download, memory;
# 3. bench_verify.sh: verify page under gunicorn + PostgreSQL + Redis, wrk, 20 clients.
# Prints each script's JSON line, then the machine (cores, load, interpreter and
# bench/hostspeed.py before and after: the VM's speed drifts) and a Markdown table
# target / measured / met.
# Exit status 0 when every target is met, 1 when one is missed, 2 on an error.
# Env: BENCH_VENV [.venv] and the variables of bench_verify.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
VENV=${BENCH_VENV:-$ROOT/.venv}
PY="$VENV/bin/python"
[ -x "$PY" ] || { echo "[bench] $PY not found: run scripts/start --no-serve first" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
trap 'echo "[bench] a benchmark failed (exit 2)" >&2; exit 2' ERR
json_line() { grep '^{' | tail -n 1; }

echo "[bench] fonts (built once, skipped when up to date)"
"$PY" manage.py build_certificate_fonts >/dev/null
"$PY" bench/hostspeed.py >"$out/host_start.json"
echo "[bench] 1/3 render, 500 certificates"
"$PY" bench/certificates/bench_render.py --renders 500 | json_line >"$out/render.json"
cat "$out/render.json"
echo "[bench] 2/3 ZIP of 1,000 stored certificates"
"$PY" bench/certificates/bench_zip.py --certificates 1000 | json_line >"$out/zip.json"
cat "$out/zip.json"
echo "[bench] 3/3 verify page, 20 clients"
bench/certificates/bench_verify.sh | sed -n 's/^BENCH_JSON //p' >"$out/verify.json"
cat "$out/verify.json"
"$PY" bench/hostspeed.py >"$out/host_end.json"

status=0
"$PY" - "$out" <<'PY' || status=$?
import json
import sys
from pathlib import Path

out = Path(sys.argv[1])


def judged_rows():
    render, zip_, verify = (
        json.loads((out / f"{n}.json").read_text()) for n in ("render", "zip", "verify")
    )
    largest_run = max(zip_["runs"], key=lambda run: max(run["python_peak_mb"], run["rss_growth_mb"]))
    zip_memory = max(largest_run["python_peak_mb"], largest_run["rss_growth_mb"])
    rows = [
        ("median render, bilingual CJK certificate", "≤ 60 ms",
         f"{render['median_ms']} ms", render["median_ms"] <= 60),
        ("PDF size", "≤ 100 KB",
         f"median {render['pdf_kb_median']} KB, max {render['pdf_kb_max']} KB", render["pdf_kb_max"] <= 100),
        ("renderer memory over 500 renders", "≤ 150 MB",
         f"{render['rss_mb_after_warmup']} → {render['rss_mb'][str(render['renders'])]} MB, "
         f"peak {render['renderer_peak_rss_mb']} MB", render["renderer_peak_rss_mb"] <= 150),
        ("ZIP of 1,000 PDFs: first byte", "< 0.5 s",
         f"{zip_['first_chunk_ms_median']} ms", zip_["first_chunk_ms_median"] < 500),
        ("ZIP of 1,000 PDFs: whole download", "< 3 s",
         f"{zip_['total_s_median']} s", zip_["total_s_median"] < 3),
        # Flat: memory does not grow with the archive (a buffered ZIP would hold all of it).
        ("ZIP server memory", "flat (< 25 % of the archive)",
         f"{zip_memory} MB for a {largest_run['zip_mb']} MB archive", zip_memory < 0.25 * largest_run["zip_mb"]),
        ("verify page p95, 20 clients, gunicorn + PostgreSQL", "< 50 ms",
         f"p95 {verify['p95_ms']} ms at {verify['rps']} req/s", verify["p95_ms"] < 50),
    ]
    return verify, rows


def host_speed() -> str:
    start, end = (
        json.loads((out / f"host_{n}.json").read_text())["hostspeed_ms"] for n in ("start", "end")
    )
    return f"host speed (bench/hostspeed.py, lower is faster) {start} ms at the start, {end} ms at the end"


try:
    verify, rows = judged_rows()
    host = host_speed()
except (OSError, ValueError, KeyError) as error:  # a benchmark printed no result
    print(f"[bench] cannot read the results: {error!r}", file=sys.stderr)
    sys.exit(2)
print()
print(f"machine: {verify['cpus']} cores, load average {verify['load_average_before']} "
      f"before the verify run; python {verify.get('python', '?')}; {host}")
print()
print("| target | goal | measured | met? |")
print("|---|---|---|---|")
for name, goal, measured, met in rows:
    print(f"| {name} | {goal} | {measured} | {'yes' if met else '**no**'} |")
sys.exit(0 if all(met for *_, met in rows) else 1)
PY
exit "$status"
