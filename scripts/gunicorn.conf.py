"""gunicorn settings for the academy (``gunicorn -c scripts/gunicorn.conf.py``).

Every value can be overridden from the environment; defaults are sized from
the machine's cores. Measured on 2 cores: see bench/README.md.
"""

import multiprocessing
import os

_cores = multiprocessing.cpu_count()


def _env_int(name: str, default: int, *, minimum: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdecimal() or int(value) < minimum:
        # gunicorn prints the reason and exits before forking any worker.
        raise SystemExit(f"{name} must be a whole number ≥ {minimum}, not {value!r}.")
    return int(value)


wsgi_app = "academy.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
# Processes do the CPU work (template rendering holds the GIL); threads cover
# the time a request waits on PostgreSQL, Redis or S3.
workers = _env_int("WEB_CONCURRENCY", _cores * 2 + 1, minimum=1)
threads = _env_int("GUNICORN_THREADS", 4, minimum=1)
timeout = _env_int("GUNICORN_TIMEOUT", 60, minimum=0)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 5000, minimum=0)
max_requests_jitter = 500
# Load Django once in the master and fork (less memory, faster restarts).
# Connections are opened lazily, after the fork.
preload_app = True
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The TLS proxy in front sets X-Forwarded-Proto; trust it from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proc_name = "academy-web"
