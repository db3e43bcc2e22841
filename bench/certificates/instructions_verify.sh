#!/usr/bin/env bash
# Instructions per verify request, counted by valgrind's callgrind: unlike
# times, the count is the same on a busy machine, so it compares two builds of
# the code or of the interpreter where wall-clock runs scatter by ±30 %.
#
#   bench/certificates/instructions_verify.sh [REQUESTS]     # ~2 min for 200
#
# Runs profile_verify.py (whole WSGI handler, test client, no HTTP server) twice
# under callgrind, with 1 and with 1 + REQUESTS measured requests after the same
# warm-up, and prints the difference divided by REQUESTS: set-up, imports and
# warm-up cancel out. Needs the bench database of bench_verify.sh (run it once).
# Env: BENCH_VENV [.venv] (e.g. var/bench-venv-pgo from bench/build_python.sh),
#      the database and cache variables of bench_verify.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
REQUESTS=${1:-200}
source bench/certificates/env.sh
command -v valgrind >/dev/null || { echo "[bench] valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$PY" bench/certificates/profile_verify.py --requests "$1" 2>&1 \
        | sed -n 's/^==[0-9]*== Collected : //p'
}
# The two runs are independent: side by side on two cores.
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count 1 >"$out/base" &
count $((1 + REQUESTS)) >"$out/more" &
wait
base=$(cat "$out/base") more=$(cat "$out/more")
[ -n "$base" ] && [ -n "$more" ] || { echo "[bench] callgrind printed no count" >&2; exit 1; }
"$PY" - "$base" "$more" "$REQUESTS" "$(python_build)" <<'PY'
import json, sys
base, more, requests = (int(v) for v in sys.argv[1:4])
print("BENCH_JSON " + json.dumps({
    "page": "verify /v/<code>, in process", "requests": requests,
    "instructions_per_request": round((more - base) / requests),
    "python": sys.argv[4],
}))
PY
