#!/usr/bin/env bash
# Verify page under gunicorn + PostgreSQL (+ Redis for the rate-limit cache):
# 20 concurrent keep-alive clients, p50/p95 latency.
#
#   bench/certificates/bench_verify.sh
#
# Env: BENCH_DATABASE_URL [postgres://postgres@127.0.0.1:5432/academy_certificates_bench]
#      BENCH_REDIS_URL [redis://127.0.0.1:6379/14]  BENCH_PORT [8032]
#      BENCH_REQUESTS [4000]  BENCH_CONCURRENCY [20]  WEB_WORKERS [2]  WEB_THREADS [4]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
export PYTHONPATH=$ROOT
export DJANGO_SETTINGS_MODULE=bench.certificates.settings_bench
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-only-secret-key-never-used-in-production-0123456789}
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/academy_certificates_bench}
export DATABASE_CONN_MAX_AGE=${DATABASE_CONN_MAX_AGE:-60}
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}
export TASKS_BACKEND=immediate
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost
export ACADEMY_VAR_DIR=${ACADEMY_VAR_DIR:-$ROOT/var/bench-certificates}
export DJANGO_STATIC_ROOT=$ACADEMY_VAR_DIR/static
export DJANGO_MEDIA_ROOT=$ACADEMY_VAR_DIR/media
export DJANGO_PRIVATE_MEDIA_ROOT=$ACADEMY_VAR_DIR/private
PORT=${BENCH_PORT:-8032}
mkdir -p "$ACADEMY_VAR_DIR"

DBNAME=${DATABASE_URL##*/}
psql "${DATABASE_URL%/*}/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname='$DBNAME'" | grep -q 1 \
    || psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE $DBNAME"
"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py collectstatic --no-input -v 0
mapfile -t CODES < <("$PY" bench/certificates/setup_verify_data.py | tail -n 50)
echo "[bench] ${#CODES[@]} certificates"

"$ROOT/.venv/bin/gunicorn" academy.wsgi -b "127.0.0.1:$PORT" \
    -w "${WEB_WORKERS:-2}" --threads "${WEB_THREADS:-4}" --log-level warning &
GPID=$!
trap 'kill $GPID 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/v/${CODES[0]}" && break
    sleep 0.3
done
# Warm every worker.
"$PY" bench/loadgen.py "http://127.0.0.1:$PORT/v/${CODES[0]}" --requests 200 --concurrency 20 >/dev/null
"$PY" bench/loadgen.py "http://127.0.0.1:$PORT/v/${CODES[1]}" \
    --requests "${BENCH_REQUESTS:-4000}" --concurrency "${BENCH_CONCURRENCY:-20}"
echo "{\"load_average\": $(cut -d' ' -f1 /proc/loadavg), \"cpus\": $(nproc)}"
