"""scripts/audit never passes an audit that did not really run."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = "Django==6.1.3\ndjango-allauth[mfa]==65.21.1\n"


@pytest.fixture
def checkout(tmp_path):
    """A copy of the script with a fake pip-audit and a local advisory API."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "audit", tmp_path / "scripts" / "audit")
    (tmp_path / "requirements.txt").write_text(REQUIREMENTS)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    (tmp_path / "api").mkdir()
    return tmp_path


def _fake_pip_audit(checkout, report: dict, status: int = 0):
    script = checkout / ".venv" / "bin" / "pip-audit"
    (checkout / "report.json").write_text(json.dumps(report))
    script.write_text(
        "#!/bin/sh\n"
        '[ "$1" = "--version" ] && exit 0\n'
        'while [ $# -gt 0 ]; do [ "$1" = "--output" ] && out="$2"; shift; done\n'
        f'cp "{checkout / "report.json"}" "$out"\n'
        f"exit {status}\n"
    )
    script.chmod(0o755)


def _project(checkout, name, latest, vulnerabilities=()):
    (checkout / "api" / f"{name}.json").write_text(
        json.dumps({"info": {"version": latest}, "vulnerabilities": vulnerabilities})
    )


def _run(checkout):
    env = {
        **os.environ,
        "AUDIT_PROJECT_API": f"file://{checkout / 'api'}/{{name}}.json",
    }
    return subprocess.run(  # noqa: S603
        [shutil.which("bash") or "/bin/bash", str(checkout / "scripts" / "audit")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


SKIPPED = {
    "dependencies": [
        {"name": "django", "skip_reason": "Dependency not found on PyPI"},
        {"name": "django-allauth", "skip_reason": "Dependency not found on PyPI"},
    ]
}


def test_missing_pip_audit_is_a_loud_failure(checkout):
    result = _run(checkout)
    assert result.returncode == 2
    assert "AUDIT NOT RUN" in result.stderr


def test_all_packages_audited_and_clean_passes(checkout):
    _fake_pip_audit(
        checkout,
        {
            "dependencies": [
                {"name": "django", "version": "6.1.3", "vulns": []},
                {"name": "django-allauth", "version": "65.21.1", "vulns": []},
            ]
        },
    )
    result = _run(checkout)
    assert result.returncode == 0, result.stderr
    assert "2 of 2 packages checked" in result.stdout


def test_vulnerability_found_by_pip_audit_fails(checkout):
    vuln = {"id": "PYSEC-2026-1", "fix_versions": ["6.1.4"]}
    _fake_pip_audit(
        checkout,
        {"dependencies": [{"name": "django", "version": "6.1.3", "vulns": [vuln]}]},
    )
    result = _run(checkout)
    assert result.returncode == 1
    assert "VULNERABLE django 6.1.3: PYSEC-2026-1 (fixed in 6.1.4)" in result.stdout


def test_skipped_packages_fall_back_to_the_project_endpoint(checkout):
    _fake_pip_audit(checkout, SKIPPED)
    _project(checkout, "django", "6.1.3")
    _project(checkout, "django-allauth", "65.21.1")
    result = _run(checkout)
    assert result.returncode == 0, result.stderr
    assert "2 through the per-project endpoint" in result.stdout


def test_vulnerability_of_the_latest_release_fails(checkout):
    _fake_pip_audit(checkout, SKIPPED)
    _project(checkout, "django", "6.1.3", [{"id": "GHSA-xxxx", "fixed_in": ["6.1.4"]}])
    _project(checkout, "django-allauth", "65.21.1")
    result = _run(checkout)
    assert result.returncode == 1
    assert "VULNERABLE django" in result.stdout and "GHSA-xxxx" in result.stdout


def test_pin_behind_latest_is_reported_not_audited(checkout):
    _fake_pip_audit(checkout, SKIPPED)
    _project(checkout, "django", "6.1.3")
    _project(checkout, "django-allauth", "65.22.1")
    result = _run(checkout)
    assert result.returncode == 3
    assert "AUDIT INCOMPLETE: 1 package(s)" in result.stderr
    assert "django-allauth: pinned 65.21.1, latest 65.22.1" in result.stderr


def test_unreachable_advisory_service_is_incomplete_not_passed(checkout):
    _fake_pip_audit(checkout, SKIPPED)  # no api/*.json files: lookups fail
    result = _run(checkout)
    assert result.returncode == 3
    assert "advisory service unreachable" in result.stderr


def test_pip_audit_crash_without_report_is_a_failure(checkout):
    script = checkout / ".venv" / "bin" / "pip-audit"
    script.write_text('#!/bin/sh\n[ "$1" = "--version" ] && exit 0\nexit 7\n')
    script.chmod(0o755)
    result = _run(checkout)
    assert result.returncode == 2
    assert "AUDIT COULD NOT RUN" in result.stderr
