"""scripts/serve-production refuses to start half-configured."""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "serve-production"
UNSET = {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}


def run(*args, **env):
    full_env = {k: v for k, v in os.environ.items() if k not in UNSET}
    full_env.update(env)
    return subprocess.run(  # noqa: S603 - our own script, fixed arguments
        [str(SCRIPT), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_settings_are_all_listed_and_nothing_starts(tmp_path):
    result = run(ACADEMY_VAR_DIR=str(tmp_path))
    assert result.returncode == 2
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"):
        assert name in result.stderr
    assert "--local" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_sqlite_and_non_redis_urls_are_refused(tmp_path):
    result = run(
        ACADEMY_VAR_DIR=str(tmp_path),
        DJANGO_SECRET_KEY="k" * 60,
        DATABASE_URL="sqlite:///tmp/x.sqlite3",
        REDIS_URL="memcached://127.0.0.1",
    )
    assert result.returncode == 2
    assert "DATABASE_URL must point to PostgreSQL, not sqlite" in result.stderr
    assert "REDIS_URL must be a redis:// URL" in result.stderr


def test_unknown_option_and_role_are_refused():
    assert "unknown option --fast" in run("--fast").stderr
    result = run("--role", "cron")
    assert result.returncode == 2
    assert "--role must be all, web or worker" in result.stderr


def test_help_describes_the_options():
    result = run("--help")
    assert result.returncode == 0
    assert "--local" in result.stdout
    assert "--role" in result.stdout
