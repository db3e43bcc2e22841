"""academy.settings.production, loaded in a fresh interpreter per case.

The settings module is chosen when Django starts, so each case runs
``manage.py`` (or a short script) in a subprocess with its own environment.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = tempfile.mkdtemp(prefix="academy-ops-test-")
DUMMY_SECRET = "x" * 20 + "-dummy-secret-for-tests-only-" + "y" * 20
PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": DUMMY_SECRET,
    "DJANGO_ALLOWED_HOSTS": "academy.example.cn",
    "DATABASE_URL": "postgres://academy:secret@db.example.cn:5432/academy",
    "REDIS_URL": "redis://redis.example.cn:6379/0",
    "TASKS_BACKEND": "db",
    "DJANGO_SMTP_HOST": "smtp.example.cn",
}
# Variables that would leak the developer's own configuration into a case.
SCRUBBED = {
    "DATABASE_URL",
    "DATABASE_POOL",
    "DATABASE_POOL_CHECK_IDLE_MS",
    "DATABASE_REPLICA_URL",
    "DATABASE_CONN_MAX_AGE",
    "DATABASE_PGBOUNCER",
    "DATABASE_PREPARE_THRESHOLD",
    "REDIS_URL",
    "TASKS_BACKEND",
    "DJANGO_SECRET_KEY",
    "DJANGO_SMTP_HOST",
    "DJANGO_SMTP_PORT",
    "DJANGO_SMTP_TLS",
    "DJANGO_MAIL_BACKEND",
    "AWS_STORAGE_BUCKET_NAME",
    "WAGTAIL_FRONTEND_CACHE_PURGE_URL",
    "DJANGO_SETTINGS_MODULE",
}


def run(args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    # A writable var/ of its own (SQLite file, mail) whatever the checkout has.
    full_env.update(
        DJANGO_SETTINGS_MODULE="academy.settings.production",
        ACADEMY_VAR_DIR=VAR_DIR,
        **env,
    )
    return subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


DUMP = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES
print(json.dumps({
    "databases": {alias: {
        "ENGINE": d["ENGINE"],
        "CONN_MAX_AGE": d["CONN_MAX_AGE"],
        "OPTIONS": d.get("OPTIONS", {}),
        "DISABLE_SERVER_SIDE_CURSORS": d.get("DISABLE_SERVER_SIDE_CURSORS"),
    } for alias, d in db.items()},
    "session_engine": settings.SESSION_ENGINE,
    "cache": settings.CACHES["default"]["BACKEND"],
    "tasks": settings.TASKS["default"]["BACKEND"],
    "mailer": settings.MAILERS["default"],
    "apps": settings.INSTALLED_APPS,
    "routers": settings.DATABASE_ROUTERS,
    "staticfiles": settings.STORAGES["staticfiles"]["BACKEND"],
}, default=str))
"""


def dump(**env) -> dict:
    result = run(["-c", DUMP], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_check_deploy_is_clean_with_dummy_secrets():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION_ENV
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.slow
def test_check_deploy_names_single_machine_services():
    env = {"DJANGO_SECRET_KEY": DUMMY_SECRET, "DJANGO_SMTP_HOST": "smtp.example.cn"}
    result = run(["manage.py", "check", "--deploy"], **env)
    output = result.stdout + result.stderr
    for check_id in ("ops.W001", "ops.W002", "ops.W003"):
        assert check_id in output


@pytest.mark.parametrize("secret", ["", "too-short"])
def test_missing_or_short_secret_fails_fast(secret):
    result = run(
        ["manage.py", "check"], **{**PRODUCTION_ENV, "DJANGO_SECRET_KEY": secret}
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_pool_option_turns_on_psycopg_pool_without_persistent_connections():
    settings = dump(**PRODUCTION_ENV, DATABASE_POOL="1", DATABASE_POOL_MAX_SIZE="5")
    default = settings["databases"]["default"]
    pool = default["OPTIONS"]["pool"]
    check, reset = pool.pop("check"), pool.pop("reset")
    assert pool == {"min_size": 2, "max_size": 5, "timeout": 10.0}
    assert "CheckIdleConnections(idle_seconds=1.0)" in check
    assert "CheckIdleConnections.check" in check
    assert "CheckIdleConnections.reset" in reset
    assert default["CONN_MAX_AGE"] == 0
    assert "statement_timeout=30000" in default["OPTIONS"]["options"]


POOL_CHECK = """
import django
from django.db import connections
django.setup()
print(connections["default"].pool._check)
"""


def test_pool_keeps_the_idle_connection_check_django_would_replace():
    # Django fills in its own check (an empty query before every use) only
    # where the options have none; the pool is built without connecting.
    result = run(["-c", POOL_CHECK], **PRODUCTION_ENV, DATABASE_POOL="1")
    assert result.returncode == 0, result.stderr
    assert "CheckIdleConnections(idle_seconds=1.0)" in result.stdout


def test_pool_check_idle_zero_checks_every_connection_as_django_does():
    env = {**PRODUCTION_ENV, "DATABASE_POOL": "1", "DATABASE_POOL_CHECK_IDLE_MS": "0"}
    pool = dump(**env)["databases"]["default"]["OPTIONS"]["pool"]
    assert "check" not in pool
    result = run(["-c", POOL_CHECK], **env)
    assert result.returncode == 0, result.stderr
    assert "ConnectionPool.check_connection" in result.stdout


def test_without_pool_connections_persist():
    default = dump(**PRODUCTION_ENV)["databases"]["default"]
    assert "pool" not in default["OPTIONS"]
    assert default["CONN_MAX_AGE"] == 60


def test_pool_on_sqlite_is_refused_with_a_clear_message():
    env = {**PRODUCTION_ENV, "DATABASE_POOL": "1"}
    del env["DATABASE_URL"]
    result = run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "DATABASE_POOL=1 needs a PostgreSQL DATABASE_URL" in result.stderr


def test_pgbouncer_disables_server_side_cursors():
    default = dump(**PRODUCTION_ENV, DATABASE_PGBOUNCER="1")["databases"]["default"]
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True


def test_postgres_binds_on_the_server_and_prepares_repeated_statements():
    settings = dump(
        **PRODUCTION_ENV,
        DATABASE_REPLICA_URL="postgres://academy:secret@replica.example.cn/academy",
    )
    for alias in ("default", "replica"):
        options = settings["databases"][alias]["OPTIONS"]
        assert options["server_side_binding"] is True
        assert options["prepare_threshold"] == 5


@pytest.mark.parametrize(
    ("env", "threshold"),
    [
        ({"DATABASE_PREPARE_THRESHOLD": "off"}, None),
        ({"DATABASE_PREPARE_THRESHOLD": " 0 "}, 0),
        ({"DATABASE_PGBOUNCER": "1"}, None),
        ({"DATABASE_PGBOUNCER": "1", "DATABASE_PREPARE_THRESHOLD": "3"}, 3),
    ],
)
def test_prepare_threshold_off_by_choice_or_behind_pgbouncer(env, threshold):
    options = dump(**PRODUCTION_ENV, **env)["databases"]["default"]["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == threshold


def test_sqlite_gets_no_postgres_statement_options():
    env = dict(PRODUCTION_ENV)
    del env["DATABASE_URL"]
    options = dump(**env)["databases"]["default"]["OPTIONS"]
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


def test_shared_services_with_redis_and_postgres():
    settings = dump(**PRODUCTION_ENV)
    assert settings["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["session_engine"] == "django.contrib.sessions.backends.cached_db"
    assert settings["tasks"] == "django_tasks_db.DatabaseBackend"
    assert "django.contrib.postgres" in settings["apps"]
    assert settings["staticfiles"] == (
        "academy.staticfiles.MemoizedManifestStaticFilesStorage"
    )
    assert settings["mailer"]["BACKEND"] == "ops.mail.RetryingEmailBackend"
    mailer = settings["mailer"]["OPTIONS"]
    assert mailer["backend"].endswith("smtp.EmailBackend")
    assert mailer["options"]["host"] == "smtp.example.cn"
    assert mailer["options"]["port"] == 587
    assert mailer["retry_delays"] == [60, 300, 1800, 7200]


def test_replica_database_and_router():
    settings = dump(
        **PRODUCTION_ENV,
        DATABASE_REPLICA_URL="postgres://academy:secret@replica.example.cn/academy",
    )
    assert set(settings["databases"]) == {"default", "replica"}
    assert settings["routers"] == ["ops.db.ReplicaRouter"]


def test_frontend_cache_invalidation_is_opt_in():
    assert "wagtail.contrib.frontend_cache" not in dump(**PRODUCTION_ENV)["apps"]
    settings = dump(
        **PRODUCTION_ENV, WAGTAIL_FRONTEND_CACHE_PURGE_URL="http://127.0.0.1:8080"
    )
    assert "wagtail.contrib.frontend_cache" in settings["apps"]


def test_file_mailer_for_local_trials_is_flagged_by_check_deploy():
    result = run(
        ["manage.py", "check", "--deploy"], **PRODUCTION_ENV, DJANGO_MAIL_BACKEND="file"
    )
    assert result.returncode != 0
    assert "mail.E001" in result.stderr
