"""Production settings: several web nodes and task workers behind a TLS proxy.

Everything a node needs comes from the environment (see docs/production.md and
``.env.example``). Nothing here assumes a single process: sessions, cache and
rate limits live in Redis, tasks in PostgreSQL, files in S3 (or a shared disk).
"""

import os

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DATABASES,
    INSTALLED_APPS,
    REDIS_URL,
    STORAGES,
    VAR_DIR,
    env_bool,
    env_float,
    env_int,
    env_int_list,
    postgres_statement_options,
)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters "
        "in production."
    )
DEBUG = False

# --- Database ---------------------------------------------------------------
# Either psycopg's pool inside each process (DATABASE_POOL=1) or persistent
# connections (CONN_MAX_AGE) — Django refuses both at once. Behind PgBouncer in
# transaction mode set DATABASE_PGBOUNCER=1 (no server-side cursors).
DATABASE_POOL = env_bool("DATABASE_POOL", False)
_is_postgres = "postgresql" in DATABASES["default"]["ENGINE"]
if DATABASE_POOL and not _is_postgres:
    raise ImproperlyConfigured("DATABASE_POOL=1 needs a PostgreSQL DATABASE_URL.")


def _tune_postgres(database: dict) -> None:
    options = database.setdefault("OPTIONS", {})
    if DATABASE_POOL:
        database["CONN_MAX_AGE"] = 0
        options["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 8, minimum=1),
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 10.0),
        }
        if options["pool"]["min_size"] > options["pool"]["max_size"]:
            raise ImproperlyConfigured(
                "DATABASE_POOL_MIN_SIZE must not be larger than DATABASE_POOL_MAX_SIZE."
            )
        # A connection back in the pool for less than this is used without
        # the empty query of psycopg's check (ops/dbpool.py); 0 checks always.
        check_idle_ms = env_int("DATABASE_POOL_CHECK_IDLE_MS", 1000)
        if check_idle_ms > 0:
            from ops.dbpool import CheckIdleConnections

            options["pool"].update(
                CheckIdleConnections(idle_seconds=check_idle_ms / 1000).pool_options()
            )
    else:
        database["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    behind_pgbouncer = env_bool("DATABASE_PGBOUNCER", False)
    if behind_pgbouncer:
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
    # base.py sets these for the default database; the replica needs them too.
    options.update(postgres_statement_options(behind_pgbouncer=behind_pgbouncer))
    # A runaway report must not hold a web worker forever (milliseconds).
    timeout_ms = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 30000)
    if timeout_ms:
        options["options"] = f"-c statement_timeout={timeout_ms}"


if _is_postgres:
    _tune_postgres(DATABASES["default"])
    # Wagtail's database search backend uses PostgreSQL full-text search there.
    if "django.contrib.postgres" not in INSTALLED_APPS:
        INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.postgres"]

# Optional read replica for reports and exports: code opts in with
# ``with ops.db.use_replica(): ...``; nothing else reads from it.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_health_checks=True
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    _tune_postgres(DATABASES["replica"])
DATABASE_ROUTERS = ["ops.db.ReplicaRouter"]

# --- Cache and sessions -----------------------------------------------------
# base.py switches CACHES to Redis when REDIS_URL is set. Sessions then read
# from Redis and fall back to the database, so any node can serve any user.
if REDIS_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Static and media files -------------------------------------------------
STORAGES = {
    **STORAGES,
    "staticfiles": {
        "BACKEND": "academy.staticfiles.MemoizedManifestStaticFilesStorage"
    },
}
# Uploaded media without S3: a reverse proxy should serve MEDIA_ROOT. For a
# single-machine trial without one, the app may serve it itself.
ACADEMY_SERVE_MEDIA = env_bool("DJANGO_SERVE_MEDIA", False)

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves compressed, hashed static files straight from the app server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[1:],  # noqa: F405
]

# --- HTTPS (terminated by the proxy in front) -------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
LANGUAGE_COOKIE_SECURE = True

# --- E-mail -----------------------------------------------------------------
# SMTP always; the host defaults to a relay on the machine itself.
# DJANGO_MAIL_BACKEND=file writes messages to var/mail instead (local trials
# only: nothing is sent, and `check --deploy` says so).
if os.environ.get("DJANGO_MAIL_BACKEND", "smtp") == "file":
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }
else:
    # No host: the machine's own relay (port 25, plain); a named host: the
    # submission port with STARTTLS unless told otherwise.
    _smtp_host = os.environ.get("DJANGO_SMTP_HOST", "")
    _smtp_options = {
        "host": _smtp_host or "localhost",
        "port": env_int("DJANGO_SMTP_PORT", 587 if _smtp_host else 25, minimum=1),
        "username": os.environ.get("DJANGO_SMTP_USER", ""),
        "password": os.environ.get("DJANGO_SMTP_PASSWORD", ""),
        "use_tls": env_bool("DJANGO_SMTP_TLS", bool(_smtp_host)),
        "timeout": 20,
    }
    # ops.mail.RetryingEmailBackend hands each message to SMTP; a failed send
    # is logged and retried through the task queue with these delays.
    MAILERS = {
        "default": {
            "BACKEND": "ops.mail.RetryingEmailBackend",
            "OPTIONS": {
                "backend": "django.core.mail.backends.smtp.EmailBackend",
                "retry_delays": env_int_list(
                    "DJANGO_MAIL_RETRY_DELAYS", "60,300,1800,7200", minimum=1
                ),
                "options": _smtp_options,
            },
        }
    }

# --- Certificate rendering ------------------------------------------------
# A task worker renders certificate PDFs in one slim renderer process of its
# own (see certificates.renderer): below 150 MB, replaced if it crashes or
# hangs. CERTIFICATES_RENDER_PROCESSES=0 renders inside the worker.
CERTIFICATES_RENDER_PROCESSES = env_int("CERTIFICATES_RENDER_PROCESSES", 1)

# --- Wagtail front-end cache invalidation -----------------------------------
# With a caching proxy (nginx/Varnish PURGE endpoint) or a CDN in front,
# publishing a page purges its URLs. Off unless configured.
WAGTAIL_FRONTEND_CACHE_PURGE_URL = os.environ.get("WAGTAIL_FRONTEND_CACHE_PURGE_URL")
if WAGTAIL_FRONTEND_CACHE_PURGE_URL:
    INSTALLED_APPS = [*INSTALLED_APPS, "wagtail.contrib.frontend_cache"]
    WAGTAILFRONTENDCACHE = {
        "proxy": {
            "BACKEND": "wagtail.contrib.frontend_cache.backends.HTTPBackend",
            "LOCATION": WAGTAIL_FRONTEND_CACHE_PURGE_URL,
        }
    }

LOGGING = {
    **LOGGING,  # noqa: F405
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
    },
}
