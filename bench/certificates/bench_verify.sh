#!/usr/bin/env bash
# Verify page (/v/<code>) under gunicorn + PostgreSQL (+ Redis for the rate-limit
# cache), load from wrk: BENCH_CONNECTIONS keep-alive connections cycling over the
# issued certificates' codes for BENCH_DURATION after a warm-up. Prints wrk's
# BENCH_JSON line merged with the server configuration, load average and cores.
#
#   flock /tmp/bench.lock bench/certificates/bench_verify.sh
#
# Env: BENCH_DATABASE_URL [postgres://postgres@127.0.0.1:5432/academy_certificates_bench]
#      BENCH_REDIS_URL [redis://127.0.0.1:6379/14]  BENCH_PORT [8032]
#      BENCH_DURATION [20s]  BENCH_WARMUP [3s]  BENCH_CONNECTIONS [20]  BENCH_THREADS [2] (wrk)
#      BENCH_THINK_MS [0]: pause of each connection between an answer and its next request
#      (0: every client sends again at once, i.e. the server runs saturated)
#      WEB_CONCURRENCY [3] / GUNICORN_THREADS [2] (scripts/gunicorn.conf.py; 3 x 2 and 2 x 4
#      measured best on 2 cores, 4 x 2 and 5 x 1 worse: this page is CPU-bound)
#      DATABASE_POOL [1]: psycopg's pool; 0 for persistent connections (DATABASE_CONN_MAX_AGE)
#      BENCH_VENV [.venv]: the virtualenv whose interpreter runs the server, e.g.
#      var/bench-venv-pgo from bench/build_python.sh (CPython built with PGO + LTO)
#      BENCH_SERVER [gunicorn] or granian (WEB_CONCURRENCY workers x GUNICORN_THREADS
#      blocking threads; an experiment: granian is not in requirements.txt)
#      BENCH_FLOOR_PATH [unset]: load this one path instead of the verify page, the floor
#      of the same stack: /healthz (Django, no database) or /readyz (SELECT 1 + a Redis
#      set and get). It sets GUNICORN_MAX_REQUESTS [0]: at thousands of requests a second
#      workers would be recycled within the run (a new worker's warm-up lands in the tail,
#      and its CPU ticks are lost; "workers_recycled" in BENCH_JSON says whether it happened)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
source bench/certificates/env.sh

if ! command -v wrk >/dev/null; then
    echo "[bench] installing wrk"
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi

PORT=${BENCH_PORT:-8032}
export GUNICORN_BIND=127.0.0.1:$PORT
export GUNICORN_ACCESS_LOG=""
export GUNICORN_LOG_LEVEL=warning
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-3}
export GUNICORN_THREADS=${GUNICORN_THREADS:-2}
DURATION=${BENCH_DURATION:-20s}
CONNECTIONS=${BENCH_CONNECTIONS:-20}
mkdir -p "$ACADEMY_VAR_DIR"

DBNAME=${DATABASE_URL##*/}
psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$DBNAME'" | grep -q 1 \
    || psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE $DBNAME"
"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py collectstatic --no-input -v 0
PATHS_FILE=$ACADEMY_VAR_DIR/verify-paths.txt
if [ -n "${BENCH_FLOOR_PATH:-}" ]; then
    page="floor $BENCH_FLOOR_PATH"
    export GUNICORN_MAX_REQUESTS=${GUNICORN_MAX_REQUESTS:-0}
    printf '%s\n' "$BENCH_FLOOR_PATH" >"$PATHS_FILE"
else
    page="verify /v/<code>"
    "$PY" bench/certificates/setup_verify_data.py | tail -n 50 | sed 's|^|/v/|' >"$PATHS_FILE"
    echo "[bench] $(wc -l <"$PATHS_FILE") certificate codes in $PATHS_FILE"
fi

case "${BENCH_SERVER:-gunicorn}" in
    gunicorn)
        server="gunicorn gthread $WEB_CONCURRENCY x $GUNICORN_THREADS"
        "$PY" "$VENV/bin/gunicorn" -c scripts/gunicorn.conf.py &
        ;;
    granian) # experiment only: granian must be importable (not in requirements.txt)
        server="granian wsgi $WEB_CONCURRENCY x $GUNICORN_THREADS"
        "$PY" -m granian --interface wsgi --host 127.0.0.1 --port "$PORT" \
            --workers "$WEB_CONCURRENCY" --blocking-threads "$GUNICORN_THREADS" \
            --log-level warning --no-ws academy.wsgi:application &
        ;;
    *) echo "[bench] BENCH_SERVER must be gunicorn or granian" >&2; exit 2 ;;
esac
GPID=$!
trap 'kill $GPID 2>/dev/null || true; wait $GPID 2>/dev/null || true' EXIT
first=$(head -1 "$PATHS_FILE")
for _ in $(seq 60); do
    curl -fs -o /dev/null -H "X-Forwarded-Proto: https" "http://127.0.0.1:$PORT$first" && break
    sleep 0.5
done
status=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-Proto: https" "http://127.0.0.1:$PORT$first")
[ "$status" = 200 ] || { echo "[bench] $first answers HTTP $status, not 200" >&2; exit 1; }

# CPU ticks (utime + stime) of the server and its worker processes: server CPU per
# request is far less sensitive to other load on the machine than latency.
server_ticks() {
    local total=0 pid
    for pid in $GPID $(pgrep -P "$GPID"); do
        [ -r "/proc/$pid/stat" ] || continue
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}
# The same for the PostgreSQL backends serving the bench database (persistent
# connections or a pool, so they outlive the measured run; new ones are missed).
db_ticks() {
    local total=0 pid
    for pid in $(psql "$DATABASE_URL" -tAc "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"); do
        [ -r "/proc/$pid/stat" ] || continue
        total=$((total + $(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    done
    echo "$total"
}
export BENCH_PATHS_FILE=$PATHS_FILE
# Warm every worker and thread (imports, template cache, connections).
wrk -t"${BENCH_THREADS:-2}" -c"$CONNECTIONS" -d"${BENCH_WARMUP:-3s}" -s bench/certificates/verify.lua \
    "http://127.0.0.1:$PORT" >/dev/null
load_before=$(cut -d' ' -f1 /proc/loadavg)
logs_before=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM certificates_verificationlog")
ticks_before=$(server_ticks) db_before=$(db_ticks)
workers_before=$(pgrep -P "$GPID" | sort | tr '\n' ' ')
result=$(wrk -t"${BENCH_THREADS:-2}" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s \
    -s bench/certificates/verify.lua "http://127.0.0.1:$PORT" | sed -n 's/^BENCH_JSON //p')
ticks_after=$(server_ticks) db_after=$(db_ticks)
workers_after=$(pgrep -P "$GPID" | sort | tr '\n' ' ')
load_after=$(cut -d' ' -f1 /proc/loadavg)
logs_after=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM certificates_verificationlog")

"$PY" - "$result" <<PY
import json, sys
r = json.loads(sys.argv[1])
recycled = "$workers_before" != "$workers_after"
r.update({
    "page": "$page", "codes": $(wc -l <"$PATHS_FILE"), "connections": $CONNECTIONS,
    "duration": "$DURATION", "server": "$server", "think_ms": ${BENCH_THINK_MS:-0},
    "python": "$(python_build)",
    "database_pool": "$DATABASE_POOL" == "1", "conn_max_age": $DATABASE_CONN_MAX_AGE,
    "verification_logs_added": $logs_after - $logs_before,
    "workers_recycled": recycled,
    # A recycled worker's ticks are gone with it: no figure rather than a wrong one.
    "server_cpu_ms_per_request": None if recycled else round(
        ($ticks_after - $ticks_before) * 1000 / $(getconf CLK_TCK) / max(r["requests"], 1), 2),
    "postgres_cpu_ms_per_request": round(
        ($db_after - $db_before) * 1000 / $(getconf CLK_TCK) / max(r["requests"], 1), 2),
    "load_average_before": $load_before, "load_average_after": $load_after, "cpus": $(nproc),
})
print("BENCH_JSON " + json.dumps(r))
PY
