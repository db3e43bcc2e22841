#!/usr/bin/env bash
# CI smoke version of the benchmarks: tiny data, SQLite, no wrk, under two minutes.
#
# 1. builds a throw-away database with a small generate_bench_data run;
# 2. checks that pages with few and many rows (10 vs 120 employees, 10 vs 30
#    lessons) need the same number of queries (bench/querycounts.py);
# 3. starts gunicorn with the production settings and sends a few hundred
#    requests to every target (bench/loadgen.py): any error fails the run
#    (429 from a rate limit, e.g. the certificate verify page, is expected);
# 4. runs the heartbeat writes (with the lost-update check) and the mixed
#    learner load of bench/loadgen.py for a few seconds with 20 learners.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY=$(command -v python3)
GUNICORN="$(dirname "$PY")/gunicorn"

work=$(mktemp -d "${TMPDIR:-/tmp}/academy-smoke.XXXXXX")
gunicorn_pid=""
cleanup() {
    [ -n "$gunicorn_pid" ] && kill -TERM "$gunicorn_pid" 2>/dev/null && wait "$gunicorn_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

export DJANGO_SETTINGS_MODULE=academy.settings.production
export DJANGO_SECRET_KEY=smoke-only-secret-key-never-used-in-production-0123456789
export ACADEMY_VAR_DIR=$work
export DJANGO_STATIC_ROOT=$work/static
export DJANGO_MEDIA_ROOT=$work/media
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,testserver
unset DATABASE_URL REDIS_URL DATABASE_POOL DATABASE_REPLICA_URL
export TASKS_BACKEND=immediate
export DJANGO_MAIL_BACKEND=file
PORT=${SMOKE_PORT:-8032}
export GUNICORN_BIND=127.0.0.1:$PORT WEB_CONCURRENCY=2 GUNICORN_THREADS=2
export GUNICORN_ACCESS_LOG="" GUNICORN_LOG_LEVEL=warning

started=$(date +%s)
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py load_demo >/dev/null
"$PY" manage.py generate_bench_data --learners 300 --companies 12 --big-company 120 \
    --small-company 10 --courses 4 --lessons-per-course 12 --big-course-lessons 30 \
    --small-course-lessons 10 --progress 2000 --certificates 100
"$PY" manage.py collectstatic --noinput -v0

echo "[smoke] queries per page"
"$PY" bench/querycounts.py --max-growth "${SMOKE_MAX_QUERY_GROWTH:-2}"

"$PY" bench/targets.py >"$work/targets.tsv"
"$GUNICORN" -c scripts/gunicorn.conf.py &
gunicorn_pid=$!
for _ in $(seq 30); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
    sleep 1
done

echo "[smoke] load"
failed=0
while IFS=$'\t' read -r name path cookie; do
    [[ "$name" == \#* ]] && continue
    if ! "$PY" bench/loadgen.py "http://127.0.0.1:$PORT$path" --requests 100 \
        --concurrency 4 --cookie "$cookie" --ok-status 429 </dev/null; then
        echo "[smoke] FAILED: $name ($path)" >&2
        failed=1
    fi
done <"$work/targets.tsv"

echo "[smoke] heartbeat writes, lost-update check, mixed learners"
"$PY" bench/learners.py prepare --learners 20 --out "$work/learners.json"
if ! "$PY" bench/loadgen.py heartbeat "http://127.0.0.1:$PORT" --learners "$work/learners.json" \
    --duration 3 --concurrency 4 --json "$work/heartbeat.json" >/dev/null; then
    echo "[smoke] FAILED: heartbeat errors: $(cat "$work/heartbeat.json")" >&2
    failed=1
fi
accepted=$("$PY" -c "import json, sys; print(json.load(open(sys.argv[1]))['accepted_seconds'])" \
    "$work/heartbeat.json")
"$PY" bench/learners.py verify "$work/learners.json" --accepted-seconds "$accepted" || failed=1
if ! "$PY" bench/loadgen.py mixed "http://127.0.0.1:$PORT" --learners "$work/learners.json" \
    --users 20 --duration 8 --ramp 1 --interval 2 --json "$work/mixed.json" >/dev/null; then
    echo "[smoke] FAILED: mixed load errors: $(cat "$work/mixed.json")" >&2
    failed=1
fi
echo "[smoke] done in $(( $(date +%s) - started )) s"
exit "$failed"
