#!/usr/bin/env bash
# One-command load test: production settings, gunicorn, PostgreSQL, Redis, wrk.
#
#   bench/run.sh            # reuse the bench database if it has data, else build it
#   bench/run.sh --fresh    # drop and rebuild the bench database (about 10 minutes)
#
# Environment (defaults in brackets):
#   BENCH_DATABASE_URL  [postgres://postgres@127.0.0.1:5432/academy_bench]
#   BENCH_REDIS_URL     [redis://127.0.0.1:6379/15]
#   BENCH_DATA_ARGS     [""]  extra generate_bench_data options (sizes)
#   BENCH_PORT [8031]  BENCH_DURATION [20s]  BENCH_CONNECTIONS ["16"] (page table)
#   BENCH_THREADS [2] (wrk)  WEB_CONCURRENCY / GUNICORN_THREADS (see scripts/gunicorn.conf.py)
#   BENCH_HEARTBEAT_SECONDS [30]  BENCH_HEARTBEAT_CONCURRENCY [32]
#   BENCH_MIXED_SECONDS [330: 30 s ramp + 5 min]  BENCH_MIXED_USERS [1000]
#   BENCH_PAGES=0 skips the table of every other page
#   DATABASE_POOL=1 to measure with psycopg's pool instead of persistent connections
# Phases (issue 7 targets, judged in the output): 1. lesson page vs /healthz at 16
# connections (wrk); 2. heartbeat writes + lost-update check (bench/loadgen.py
# heartbeat, bench/learners.py verify); 3. 1,000 simulated learners with think
# time (bench/loadgen.py mixed, asyncio); 4. every page (wrk); 5. query counts.
# Output: bench/results/<UTC time>.md and .jsonl (+ latest.md); loopback only.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"

fresh=0
[ "${1:-}" = "--fresh" ] && fresh=1

if ! command -v wrk >/dev/null; then
    echo "[bench] installing wrk"
    if [ "$(id -u)" = 0 ]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi

export DJANGO_SETTINGS_MODULE=academy.settings.production
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-only-secret-key-never-used-in-production-0123456789}
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/academy_bench}
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/15}
export TASKS_BACKEND=db
# Demo data sends e-mail: keep it on disk (var/bench/mail), never on the network.
export DJANGO_MAIL_BACKEND=file
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,testserver
export ACADEMY_VAR_DIR=${ACADEMY_VAR_DIR:-$ROOT/var/bench}
export DJANGO_STATIC_ROOT=$ACADEMY_VAR_DIR/static
export DJANGO_MEDIA_ROOT=$ACADEMY_VAR_DIR/media
export GUNICORN_ACCESS_LOG=""
export GUNICORN_LOG_LEVEL=warning
PORT=${BENCH_PORT:-8031}
export GUNICORN_BIND=127.0.0.1:$PORT
DURATION=${BENCH_DURATION:-20s}
CONNECTIONS=${BENCH_CONNECTIONS:-16}
mkdir -p "$ACADEMY_VAR_DIR" bench/results

db_name=${DATABASE_URL##*/}
admin_url=${DATABASE_URL%/*}/postgres
has_data=$("$PY" - <<EOF
import psycopg
try:
    with psycopg.connect("$DATABASE_URL", connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT count(*) FROM users_user WHERE email LIKE '%@bench.example.cn'"
        ).fetchone()
        print(row[0])
except psycopg.Error:
    print(0)
EOF
)
if [ "$fresh" = 1 ] || [ "$has_data" = 0 ]; then
    echo "[bench] building $db_name (drop, migrate, demo data, bench data)"
    "$PY" - <<EOF
import psycopg
from psycopg import sql
with psycopg.connect("$admin_url", autocommit=True) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier("$db_name")))
    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier("$db_name")))
EOF
    "$PY" manage.py migrate --noinput -v0
    TASKS_BACKEND=immediate "$PY" manage.py load_demo >/dev/null
    # shellcheck disable=SC2086
    # Tasks run inline while generating (search index of the course pages).
    TASKS_BACKEND=immediate "$PY" manage.py generate_bench_data ${BENCH_DATA_ARGS:-}
    psql "$DATABASE_URL" -q -c "VACUUM ANALYZE" 2>/dev/null || true
else
    echo "[bench] reusing $db_name ($has_data bench users; --fresh rebuilds)"
    "$PY" manage.py migrate --noinput -v0
fi
"$PY" manage.py collectstatic --noinput -v0
redis-cli -u "$REDIS_URL" flushdb >/dev/null 2>&1 || true

stamp=$(date -u +%Y%m%dT%H%M%SZ)
out_md=bench/results/$stamp.md
out_json=bench/results/$stamp.jsonl
targets_file=$ACADEMY_VAR_DIR/targets.tsv
"$PY" bench/targets.py >"$targets_file"

gunicorn_pid="" worker_pid=""
cleanup() {
    [ -n "$worker_pid" ] && kill -TERM "$worker_pid" 2>/dev/null && wait "$worker_pid" 2>/dev/null
    [ -n "$gunicorn_pid" ] && kill -TERM "$gunicorn_pid" 2>/dev/null && wait "$gunicorn_pid" 2>/dev/null
    true
}
trap cleanup EXIT INT TERM
"$ROOT/.venv/bin/gunicorn" -c scripts/gunicorn.conf.py &
gunicorn_pid=$!
# The task worker of the production run mode (e-mail, PDFs, exports) runs alongside.
"$PY" manage.py db_worker --queue-name "default,email,pdf,exports" --no-reload --interval 1 \
    >"$ACADEMY_VAR_DIR/worker.log" 2>&1 &
worker_pid=$!
for _ in $(seq 60); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
    sleep 1
done
workers=$("$PY" -c "import runpy; c = runpy.run_path('scripts/gunicorn.conf.py'); print(c['workers'], 'workers x', c['threads'], 'threads')")

{
    echo "# Bench run $stamp"
    echo
    echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB RAM; $(uname -sr)."
    echo "gunicorn gthread: $workers; DATABASE_POOL=${DATABASE_POOL:-0}; wrk ${BENCH_THREADS:-2} threads, $DURATION per row."
    echo "Load average before the run (other processes on this machine): $(cut -d' ' -f1-3 /proc/loadavg)."
    grep '^#' "$targets_file" || true
} >"$out_md"

load() { cut -d' ' -f1-3 /proc/loadavg; }
wrk_json() { # cookie url connections
    BENCH_COOKIE=$1 wrk -t"${BENCH_THREADS:-2}" -c"$3" -d"$DURATION" --timeout 10s \
        -s bench/report.lua "$2" | sed -n 's/^BENCH_JSON //p'
}

# 1. Lesson page for a logged-in learner vs the trivial view, same server, same run.
BENCH_LESSON_ONLY=1 "$PY" bench/targets.py >"$ACADEMY_VAR_DIR/lesson.tsv"
lesson_path=$(sed -n 2p "$ACADEMY_VAR_DIR/lesson.tsv" | cut -f2)
lesson_cookie=$(sed -n 2p "$ACADEMY_VAR_DIR/lesson.tsv" | cut -f3)
lesson_url="http://127.0.0.1:$PORT$lesson_path"
BENCH_COOKIE=$lesson_cookie wrk -t1 -c2 -d3s -s bench/report.lua "$lesson_url" >/dev/null
wrk -t1 -c2 -d2s -s bench/report.lua "http://127.0.0.1:$PORT/healthz" >/dev/null
load_1=$(load)
healthz=$(wrk_json - "http://127.0.0.1:$PORT/healthz" 16)
lesson=$(wrk_json "$lesson_cookie" "$lesson_url" 16)
load_2=$(load)

# 2. Heartbeat writes, then compare the accepted deltas with the database.
"$PY" bench/learners.py prepare --learners 1000 --out "$ACADEMY_VAR_DIR/heartbeat.json"
load_3=$(load)
"$PY" bench/loadgen.py heartbeat "http://127.0.0.1:$PORT" --learners "$ACADEMY_VAR_DIR/heartbeat.json" \
    --duration "${BENCH_HEARTBEAT_SECONDS:-30}" --concurrency "${BENCH_HEARTBEAT_CONCURRENCY:-32}" \
    --json "$ACADEMY_VAR_DIR/heartbeat-result.json" >/dev/null || true
accepted=$("$PY" -c "import json, sys; print(json.load(open(sys.argv[1]))['accepted_seconds'])" \
    "$ACADEMY_VAR_DIR/heartbeat-result.json")
"$PY" bench/learners.py verify "$ACADEMY_VAR_DIR/heartbeat.json" --accepted-seconds "$accepted" \
    >"$ACADEMY_VAR_DIR/heartbeat-verify.json" || true
load_4=$(load)

# 3. Mixed load: 1,000 simulated learners with think time (asyncio, one process).
"$PY" bench/learners.py prepare --learners "${BENCH_MIXED_USERS:-1000}" --out "$ACADEMY_VAR_DIR/mixed.json"
load_5=$(load)
"$PY" bench/loadgen.py mixed "http://127.0.0.1:$PORT" --learners "$ACADEMY_VAR_DIR/mixed.json" \
    --users "${BENCH_MIXED_USERS:-1000}" --duration "${BENCH_MIXED_SECONDS:-330}" --ramp 30 \
    --json "$ACADEMY_VAR_DIR/mixed-result.json" >/dev/null || true
load_6=$(load)

"$PY" bench/judge.py --healthz "$healthz" --lesson "$lesson" \
    --heartbeat "$ACADEMY_VAR_DIR/heartbeat-result.json" \
    --verify "$ACADEMY_VAR_DIR/heartbeat-verify.json" --mixed "$ACADEMY_VAR_DIR/mixed-result.json" \
    --loads "$load_1" "$load_2" "$load_3" "$load_4" "$load_5" "$load_6" >>"$out_md"
cat "$out_md"

# 4. Every other page.
[ "${BENCH_PAGES:-1}" = 0 ] && : >"$targets_file.skip" || cp "$targets_file" "$targets_file.skip"
{ echo; echo "## Every page (wrk, $DURATION per row)"; echo
  echo "| page | connections | requests/s | p50 ms | p95 ms | p99 ms | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|"; } >>"$out_md"
{ grep -v '^#' "$targets_file.skip" || true; } | while IFS=$'\t' read -r name path cookie; do
    url="http://127.0.0.1:$PORT$path"
    curl_args=(-s -o /dev/null -w '%{http_code}' -H "X-Forwarded-Proto: https")
    [ "$cookie" != - ] && curl_args+=(-H "Cookie: $cookie")
    status=$(curl "${curl_args[@]}" "$url" || true)
    # Warm up each page (template caches, connections) before measuring.
    BENCH_COOKIE=$cookie wrk -t1 -c2 -d2s -s bench/report.lua "$url" >/dev/null
    for connections in $CONNECTIONS; do
        line=$(BENCH_COOKIE=$cookie wrk -t"${BENCH_THREADS:-2}" -c"$connections" -d"$DURATION" \
            --timeout 10s -s bench/report.lua "$url" | sed -n 's/^BENCH_JSON //p')
        echo "{\"name\": \"$name\", \"path\": \"$path\", \"status\": $status, \"connections\": $connections, \"result\": $line}" >>"$out_json"
        "$PY" - "$line" "$name" "$connections" "$status" >>"$out_md" <<'EOF'
import json, sys
r = json.loads(sys.argv[1])
name, connections, status = sys.argv[2], sys.argv[3], sys.argv[4]
errors = r["non_2xx_3xx"] + r["socket_errors"]
print(f"| {name} (HTTP {status}) | {connections} | {r['rps']:.0f} | {r['p50_ms']:.0f} "
      f"| {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {errors} |")
EOF
        tail -1 "$out_md"
    done
done

cleanup
gunicorn_pid="" worker_pid=""
echo >>"$out_md"
echo "Load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$out_md"
{
    echo
    echo "## Queries per page (in-process, median of 5 requests)"
    echo
    "$PY" bench/querycounts.py --json "bench/results/$stamp.queries.json"
} >>"$out_md"
cp "$out_md" bench/results/latest.md
echo "[bench] wrote $out_md"
