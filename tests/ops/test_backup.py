"""Backup and restore drill: a certificate still verifies, and its PDF still
matches its SHA-256, after restoring into a new database and storage."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.urls import reverse

from certificates import services as certificate_services
from certificates.models import Certificate, VerificationResult
from organizations.models import Company
from tests.certificates.factories import make_completed_enrollment, make_course
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _content_type_cache():
    """The test's rollback brings back the old content type ids."""
    from django.contrib.contenttypes.models import ContentType

    yield
    ContentType.objects.clear_cache()


def _use_storages(settings, monkeypatch, root):
    """Point both storages (and the certificate field's own instance) at
    ``root``: a new machine with empty disks or an empty bucket."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root / "media"},
        },
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": root / "private", "base_url": None},
        },
    }
    # FileField evaluates its storage callable once, at import.
    monkeypatch.setattr(
        Certificate._meta.get_field("pdf"), "storage", storages["private"]
    )


@pytest.fixture
def instance(
    world,
    home_page,
    settings,
    monkeypatch,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    _use_storages(settings, monkeypatch, tmp_path / "old")
    settings.CERTIFICATES_RENDER_BACKOFF = 0
    course = make_course(
        parent=home_page, publisher=world.lead, certificate_signatory=world.expert
    )
    enrollment = make_completed_enrollment(user=world.learner, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        certificate = certificate_services.certificate_issue_for_enrollment(
            enrollment=enrollment
        )
    certificate.refresh_from_db()
    assert certificate.is_pdf_ready
    storages["default"].save("original_images/gauge.png", ContentFile(b"\x89PNG..."))
    return certificate


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def _flush():
    from django.db import connection

    if connection.vendor == "postgresql":  # see ops.backup._empty_tables
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, verbosity=0)


def _new_empty_instance(settings, monkeypatch, root):
    """A new, migrated database (its migration-made rows, no data) and empty
    storage."""
    _flush()
    assert not User.objects.exists()
    _use_storages(settings, monkeypatch, root)


def test_backup_restore_drill(instance, client, settings, monkeypatch, tmp_path):
    certificate = instance
    counts = {model: model.objects.count() for model in (User, Company, Certificate)}
    archive = tmp_path / "academy.tar.gz"
    out = _run("backup_create", "--output", str(archive))
    assert "backup written" in out and "2 file(s)" in out

    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        pdf_member = f"private/{certificate.pdf.name}"
        assert manifest["members"][pdf_member]["sha256"] == certificate.pdf_sha256
        assert "media/original_images/gauge.png" in manifest["members"]
        dump = json.load(tar.extractfile("database.json"))
    models = {row["model"] for row in dump}
    assert {"contenttypes.contenttype", "certificates.certificate"} <= models
    assert "sessions.session" not in models

    _new_empty_instance(settings, monkeypatch, tmp_path / "new")
    assert not storages["private"].exists(certificate.pdf.name)
    out = _run("backup_restore", str(archive))
    assert "restored" in out

    assert {
        model: model.objects.count() for model in (User, Company, Certificate)
    } == counts
    restored = Certificate.objects.get(serial=certificate.serial)
    verification = certificate_services.certificate_verify_code(
        raw_code=certificate.code, client="drill"
    )
    assert verification.result == VerificationResult.VALID
    assert verification.certificate.pk == certificate.pk
    with restored.pdf.open("rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == restored.pdf_sha256
    assert storages["default"].open("original_images/gauge.png").read() == (
        b"\x89PNG..."
    )
    page = client.get(reverse("certificates:verify_code", args=[certificate.code]))
    assert page.status_code == 200
    assert certificate.holder_name in page.content.decode()
    assert restored.pdf_sha256 in page.content.decode()
    # The restored site serves pages (Wagtail tree, site, content types intact).
    assert client.get("/").status_code == 200


def test_restore_refuses_a_database_with_data(instance, tmp_path):
    archive = tmp_path / "academy.tar.gz"
    _run("backup_create", "--output", str(archive))
    users = User.objects.count()
    with pytest.raises(CommandError, match="The database is not empty"):
        _run("backup_restore", str(archive))
    assert User.objects.count() == users


def test_restore_refuses_files_that_exist(instance, settings, monkeypatch, tmp_path):
    archive = tmp_path / "academy.tar.gz"
    _run("backup_create", "--output", str(archive))
    _flush()
    # Storage not emptied: the old files are still there.
    with pytest.raises(CommandError, match="already has a file"):
        _run("backup_restore", str(archive))
    assert not User.objects.exists()


def _rewrite(archive, target, change):
    """Copy ``archive`` to ``target`` with one member's bytes changed."""
    with tarfile.open(archive) as source, tarfile.open(target, "w:gz") as copy:
        for info in source:
            data = source.extractfile(info).read()
            data = change(info.name, data)
            if data is None:
                continue
            info.size = len(data)
            copy.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda name, data: (
                data.replace(b"%PDF", b"%PDX") if name.endswith(".pdf") else data
            ),
            "SHA-256 mismatch",
        ),
        (lambda name, data: None if name == "database.json" else data, "missing"),
        (lambda name, data: None if name == "manifest.json" else data, "no manifest"),
    ],
    ids=["flipped-byte", "missing-member", "no-manifest"],
)
def test_restore_refuses_a_damaged_archive(
    instance, settings, monkeypatch, tmp_path, change, message
):
    archive = tmp_path / "academy.tar.gz"
    _run("backup_create", "--output", str(archive))
    damaged = tmp_path / "damaged.tar.gz"
    _rewrite(archive, damaged, change)
    _new_empty_instance(settings, monkeypatch, tmp_path / "new")
    with pytest.raises(CommandError, match=message):
        _run("backup_restore", str(damaged))
    assert not User.objects.exists()
    # Nothing was written to the new storage.
    assert not (tmp_path / "new").exists() or not any(
        path.is_file() for path in (tmp_path / "new").rglob("*")
    )


def test_restore_refuses_a_truncated_or_foreign_file(tmp_path, db):
    truncated = tmp_path / "cut.tar.gz"
    truncated.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    with pytest.raises(CommandError, match="damaged|not a backup archive"):
        _run("backup_restore", str(truncated))
    foreign = tmp_path / "notes.txt"
    foreign.write_text("hello")
    with pytest.raises(CommandError, match="not a backup archive"):
        _run("backup_restore", str(foreign))
    with pytest.raises(CommandError, match="does not exist"):
        _run("backup_restore", str(tmp_path / "nothing.tar.gz"))


def test_check_only_and_existing_output(instance, tmp_path):
    archive = tmp_path / "academy.tar.gz"
    _run("backup_create", "--output", str(archive))
    assert "intact" in _run("backup_restore", str(archive), "--check-only")
    with pytest.raises(CommandError, match="exists already"):
        _run("backup_create", "--output", str(archive))


@pytest.mark.postgres
def test_backup_restore_drill_on_postgres(
    instance, client, settings, monkeypatch, tmp_path
):
    test_backup_restore_drill(instance, client, settings, monkeypatch, tmp_path)
