"""Reading settings from the environment: a mistyped value stops the process
with the variable's name and the value it got."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from academy.settings.base import (
    _rate_limit,
    env_bool,
    env_float,
    env_int,
    env_int_list,
)

from .test_production_settings import PRODUCTION_ENV, ROOT, run


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("TRUE", True), (" yes ", True), ("on", True), ("0", False),
     ("false", False), ("No", False), ("off", False), ("", False)],
)  # fmt: skip
def test_env_bool_reads_the_usual_spellings(monkeypatch, value, expected):
    monkeypatch.setenv("ACADEMY_TEST_FLAG", value)
    assert env_bool("ACADEMY_TEST_FLAG", default=not expected) is expected


def test_env_bool_unset_is_the_default(monkeypatch):
    monkeypatch.delenv("ACADEMY_TEST_FLAG", raising=False)
    assert env_bool("ACADEMY_TEST_FLAG", True) is True
    assert env_bool("ACADEMY_TEST_FLAG", False) is False


@pytest.mark.parametrize("value", ["ture", "2", "enabled"])
def test_env_bool_refuses_anything_else(monkeypatch, value):
    monkeypatch.setenv("ACADEMY_TEST_FLAG", value)
    with pytest.raises(ImproperlyConfigured) as error:
        env_bool("ACADEMY_TEST_FLAG")
    assert "ACADEMY_TEST_FLAG" in str(error.value)
    assert repr(value) in str(error.value)


def test_env_int_and_float_read_numbers_and_fall_back_when_unset_or_blank(monkeypatch):
    monkeypatch.setenv("ACADEMY_TEST_NUMBER", " 42 ")
    assert env_int("ACADEMY_TEST_NUMBER", 7) == 42
    assert env_float("ACADEMY_TEST_NUMBER", 7.0) == 42.0
    monkeypatch.setenv("ACADEMY_TEST_NUMBER", "2.5")
    assert env_float("ACADEMY_TEST_NUMBER", 7.0) == 2.5
    monkeypatch.setenv("ACADEMY_TEST_NUMBER", "")
    assert env_int("ACADEMY_TEST_NUMBER", 7) == 7
    monkeypatch.delenv("ACADEMY_TEST_NUMBER")
    assert env_float("ACADEMY_TEST_NUMBER", 7.5) == 7.5


@pytest.mark.parametrize(
    ("reader", "value", "minimum", "message"),
    [
        (env_int, "abc", 0, "a whole number ≥ 0, not 'abc'"),
        (env_int, "2.5", 0, "a whole number ≥ 0, not '2.5'"),
        (env_int, "0", 1, "a whole number ≥ 1, not '0'"),
        (env_int, "-5", 0, "a whole number ≥ 0, not '-5'"),
        (env_float, "ten", 0, "a number ≥ 0, not 'ten'"),
        (env_float, "0.5", 1, "a number ≥ 1, not '0.5'"),
        (env_float, "nan", 0, "a number ≥ 0, not 'nan'"),
        (env_float, "inf", 0, "a number ≥ 0, not 'inf'"),
    ],
)
def test_env_numbers_name_the_variable_and_the_bad_value(
    monkeypatch, reader, value, minimum, message
):
    monkeypatch.setenv("ACADEMY_TEST_NUMBER", value)
    with pytest.raises(ImproperlyConfigured) as error:
        reader("ACADEMY_TEST_NUMBER", 1, minimum=minimum)
    assert str(error.value) == f"ACADEMY_TEST_NUMBER must be {message}."


def test_env_int_list(monkeypatch):
    monkeypatch.delenv("ACADEMY_TEST_LIST", raising=False)
    assert env_int_list("ACADEMY_TEST_LIST", "60,300") == [60, 300]
    monkeypatch.setenv("ACADEMY_TEST_LIST", "5, 10 ,15")
    assert env_int_list("ACADEMY_TEST_LIST", "60,300") == [5, 10, 15]
    monkeypatch.setenv("ACADEMY_TEST_LIST", " ")
    assert env_int_list("ACADEMY_TEST_LIST", "60,300") == [60, 300]
    for bad in ("5,,10", "5;10", "5,x", "0,10"):
        monkeypatch.setenv("ACADEMY_TEST_LIST", bad)
        with pytest.raises(ImproperlyConfigured, match="ACADEMY_TEST_LIST must be"):
            env_int_list("ACADEMY_TEST_LIST", "60,300", minimum=1)


def test_rate_limit_is_requests_per_seconds(monkeypatch):
    monkeypatch.setenv("ACADEMY_TEST_LIMIT", "100/30")
    assert _rate_limit("ACADEMY_TEST_LIMIT", "30/60") == (100, 30)
    for bad in ("100", "100/", "/60", "a/b", "0/60", "10/0", "10/60/5"):
        monkeypatch.setenv("ACADEMY_TEST_LIMIT", bad)
        with pytest.raises(ImproperlyConfigured) as error:
            _rate_limit("ACADEMY_TEST_LIMIT", "30/60")
        assert str(error.value) == (
            f"ACADEMY_TEST_LIMIT must be requests/seconds such as 30/60, not {bad!r}."
        )


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_POOL", "ture", "DATABASE_POOL must be one of"),
        ("DATABASE_CONN_MAX_AGE", "1m", "DATABASE_CONN_MAX_AGE must be a whole number"),
        ("DJANGO_SMTP_PORT", "0", "DJANGO_SMTP_PORT must be a whole number ≥ 1"),
        ("DJANGO_MAIL_RETRY_DELAYS", "60,5m", "DJANGO_MAIL_RETRY_DELAYS must be"),
        ("CERTIFICATES_VERIFY_RATE_LIMIT", "30", "CERTIFICATES_VERIFY_RATE_LIMIT"),
        (
            "DATABASE_PREPARE_THRESHOLD",
            "sometimes",
            "DATABASE_PREPARE_THRESHOLD must be a whole number ≥ 0 or off, "
            "not 'sometimes'",
        ),
    ],
)
def test_production_refuses_to_start_with_a_mistyped_variable(variable, value, message):
    result = run(["manage.py", "check"], **{**PRODUCTION_ENV, variable: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_pool_smaller_than_its_minimum_is_refused():
    env = {
        **PRODUCTION_ENV,
        "DATABASE_POOL": "1",
        "DATABASE_POOL_MIN_SIZE": "4",
        "DATABASE_POOL_MAX_SIZE": "2",
    }
    result = run(["manage.py", "check"], **env)
    assert result.returncode != 0
    assert "DATABASE_POOL_MIN_SIZE must not be larger than DATABASE_POOL_MAX_SIZE" in (
        result.stderr
    )


_READS = re.compile(
    r"(?:env_bool|env_int|env_float|env_int_list|env_list|_rate_limit|os\.environ\.get)"
    r"\(\s*\"([A-Z][A-Z0-9_]+)\""
)
# Read by the test settings only, to switch the browser tests on.
_NOT_FOR_OPERATORS = {"E2E"}


def test_env_example_lists_every_variable_the_settings_read():
    sources = [*(ROOT / "academy" / "settings").glob("*.py")]
    sources.append(ROOT / "scripts" / "gunicorn.conf.py")
    read = {name for path in sources for name in _READS.findall(path.read_text())}
    assert {"DATABASE_POOL_CHECK_IDLE_MS", "CERTIFICATES_RENDERER_IDLE_SECONDS"} <= read
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    assert read - _NOT_FOR_OPERATORS - listed == set()


@pytest.mark.parametrize(
    ("variable", "value"), [("GUNICORN_THREADS", "x"), ("GUNICORN_TIMEOUT", "-1")]
)
def test_gunicorn_config_refuses_a_mistyped_number(variable, value):
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    config = "scripts/gunicorn.conf.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUNICORN_")}
    result = subprocess.run(  # noqa: S603 - fixed argv, our own virtualenv
        [sys.executable, gunicorn, "--check-config", "-c", config],
        cwd=ROOT,
        env={**env, variable: value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"{variable} must be a whole number" in result.stdout + result.stderr
