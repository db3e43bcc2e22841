# Environment of the verify benchmarks, sourced by bench_verify.sh and
# instructions_verify.sh (and usable for profile_verify.py: `source
# bench/certificates/env.sh` from the repository root). Expects ROOT.
# Production settings with a rate limit the load cannot reach
# (settings_bench.py), PostgreSQL, Redis for the rate limiter's counters.
# Sets VENV and PY from BENCH_VENV [.venv].
VENV=${BENCH_VENV:-$ROOT/.venv}
VENV=$(cd "$VENV" && pwd)
PY="$VENV/bin/python"
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
export DJANGO_SETTINGS_MODULE=bench.certificates.settings_bench
export DJANGO_SECRET_KEY=${DJANGO_SECRET_KEY:-bench-only-secret-key-never-used-in-production-0123456789}
export DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/academy_certificates_bench}
export DATABASE_CONN_MAX_AGE=${DATABASE_CONN_MAX_AGE:-60}
# psycopg's pool: measured ~1 ms less server CPU and ~0.25 ms less PostgreSQL CPU per
# request than persistent connections, whose health check (CONN_HEALTH_CHECKS) costs
# one more round trip per request; DATABASE_POOL=0 measures persistent connections.
export DATABASE_POOL=${DATABASE_POOL:-1}
export REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379/14}
export TASKS_BACKEND=immediate
# testserver: profile_verify.py's test client.
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost,testserver
export ACADEMY_VAR_DIR=${ACADEMY_VAR_DIR:-$ROOT/var/bench-certificates}
export DJANGO_STATIC_ROOT=$ACADEMY_VAR_DIR/static
export DJANGO_MEDIA_ROOT=$ACADEMY_VAR_DIR/media
export DJANGO_PRIVATE_MEDIA_ROOT=$ACADEMY_VAR_DIR/private

# "3.13.5 pgo+lto" or "3.13.0 no pgo/lto": how the interpreter was built.
python_build() {
    "$PY" -c 'import platform, sysconfig
flags = sysconfig.get_config_var("CONFIG_ARGS") or ""
built = "+".join(n for f, n in (("--enable-optimizations", "pgo"), ("--with-lto", "lto")) if f in flags)
print(platform.python_version(), built or "no pgo/lto")'
}
