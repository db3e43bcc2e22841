"""Fault injection: a worker killed mid-render, the database going away in a
request, a failing mail server, and workers restarted with work queued."""

from __future__ import annotations

import json
import logging
import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import CommandError, call_command
from django.db import OperationalError, connection, transaction
from django.tasks import TaskResultStatus
from django.urls import reverse
from django.utils import timezone

from certificates import services as certificate_services
from certificates.models import Certificate, CertificateEvent, EventKind, RenderStatus
from tests.certificates.factories import make_completed_enrollment, make_course

pytestmark = pytest.mark.django_db

DB_QUEUE = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "pdf", "email", "exports"],
    }
}


def _events(caplog, logger="academy.ops") -> list[dict]:
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == logger
    ]


@pytest.fixture
def enrollment(world, home_page):
    course = make_course(
        parent=home_page, publisher=world.lead, certificate_signatory=world.expert
    )
    return make_completed_enrollment(user=world.learner, course=course)


def _worker(**options):
    """One worker process's life: run every ready task, then exit.

    It runs in the test's own transaction, so it must not close the
    connection between tasks as a real worker does."""
    with mock.patch(
        "django_tasks_db.management.commands.db_worker.close_old_connections"
    ):
        _run_worker(**options)


def _run_worker(**options):
    call_command(
        "db_worker",
        batch=True,
        queue_name="*",
        startup_delay=False,
        interval=0,
        verbosity=0,
        **options,
    )


def _sha256(certificate) -> str:
    import hashlib

    with certificate.pdf.open("rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


# --- (a) a worker killed mid-render -----------------------------------------


def test_render_killed_midway_leaves_pending_and_maintenance_completes_it(
    enrollment, monkeypatch, settings
):
    settings.CERTIFICATES_RENDER_BACKOFF = 0
    certificate = certificate_services.certificate_issue_for_enrollment(
        enrollment=enrollment
    )
    storage = certificate.pdf.storage
    name = certificate_services.certificate_pdf_name(certificate)

    def killed(_certificate):
        # The process dies after writing part of the file: SystemExit is what
        # a worker's second SIGTERM raises; no `except Exception` catches it.
        storage.save(name, ContentFile(b"%PDF-1.7 trunc"))
        raise SystemExit(1)

    monkeypatch.setattr(certificate_services, "certificate_pdf_bytes", killed)
    with pytest.raises(SystemExit):
        certificate_services.certificate_render(certificate_id=certificate.pk)
    monkeypatch.undo()
    certificate.refresh_from_db()
    assert certificate.render_status == RenderStatus.PENDING
    assert not certificate.pdf

    # Within ten minutes the render may still be running elsewhere: left alone.
    call_command("certificates_maintenance", stdout=mock.Mock())
    certificate.refresh_from_db()
    assert certificate.render_status == RenderStatus.PENDING

    Certificate.objects.filter(pk=certificate.pk).update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    call_command("certificates_maintenance", stdout=mock.Mock())
    certificate.refresh_from_db()
    assert certificate.render_status == RenderStatus.READY
    assert certificate.pdf.name == name  # the truncated file was replaced
    assert _sha256(certificate) == certificate.pdf_sha256
    assert certificate.pdf_size > 1000


# --- (b) the database goes away during a request ----------------------------


def _database_gone(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.parametrize("logged_in, path", [(False, "/"), (True, "/learning/")])
def test_database_gone_gives_clean_503_page(
    client, world, home_page, logged_in, path, caplog
):
    if logged_in:
        client.force_login(world.learner)
    client.raise_request_exception = False
    with (
        caplog.at_level(logging.INFO, logger="academy.ops"),
        mock.patch.object(connection, "cursor", _database_gone),
    ):
        response = client.get(path)
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "数据库暂时无法连接" in body and "try again in a minute" in body
    assert "Traceback" not in body and "OperationalError" not in body
    assert "server closed" not in body
    events = [e for e in _events(caplog) if e["event"] == "database_unavailable"]
    assert events == [
        {
            "event": "database_unavailable",
            "path": path,
            "error": "OperationalError",
        }
    ]


def test_other_errors_give_the_500_page_without_traceback(rf):
    from academy.views import server_error

    try:
        raise RuntimeError("secret detail")
    except RuntimeError:
        response = server_error(rf.get("/learning/"))
    body = response.content.decode()
    assert response.status_code == 500
    assert "服务器暂时无法处理请求" in body
    assert "secret detail" not in body and "Traceback" not in body


def test_failure_mid_transaction_writes_nothing(
    client, world, enrollment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        certificate = certificate_services.certificate_issue_for_enrollment(
            enrollment=enrollment
        )
    events_before = CertificateEvent.objects.count()
    world.coordinator.is_superuser = True
    world.coordinator.save()
    client.force_login(world.coordinator)
    client.raise_request_exception = False
    # The revocation is saved, then the database dies before the log entry.
    with mock.patch.object(certificate_services, "_event", _database_gone):
        response = client.post(
            reverse("certificates_revoke", args=[certificate.pk]),
            {"reason": "考核作弊"},
        )
    assert response.status_code == 503
    certificate.refresh_from_db()
    assert certificate.revoked_at is None and certificate.revoked_reason == ""
    assert CertificateEvent.objects.count() == events_before


def test_service_failing_midway_leaves_no_rows(enrollment):
    with (
        mock.patch.object(certificate_services, "_event", _database_gone),
        pytest.raises(OperationalError),
    ):
        certificate_services.certificate_issue_for_enrollment(enrollment=enrollment)
    assert not Certificate.objects.exists()
    assert not CertificateEvent.objects.exists()


# --- (c) a failing mail server -----------------------------------------------


class FlakyBackend(LocmemBackend):
    """Fails the first ``failures`` sends, then delivers to the outbox."""

    failures = 0
    calls = 0

    def send_messages(self, messages):
        FlakyBackend.calls += 1
        if FlakyBackend.calls <= FlakyBackend.failures:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mailer(settings, mailoutbox):
    FlakyBackend.calls = 0
    settings.MAILERS = {
        "default": {
            "BACKEND": "ops.mail.RetryingEmailBackend",
            "OPTIONS": {
                "backend": "tests.ops.test_faults.FlakyBackend",
                "retry_delays": [60, 300],
            },
        }
    }
    return FlakyBackend


def test_failed_invitation_mail_is_retried_and_logged(
    world, flaky_mailer, caplog, django_capture_on_commit_callbacks
):
    from organizations.services import invitation_create

    flaky_mailer.failures = 2
    with (
        caplog.at_level(logging.INFO, logger="academy.ops"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        invitation_create(
            invited_by=world.hr, company=world.partner_sme, email="neu@example.cn"
        )
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["neu@example.cn"]
    assert world.partner_sme.name in mail.outbox[0].subject + mail.outbox[0].body
    events = _events(caplog)
    assert [(e["event"], e["attempt"]) for e in events] == [
        ("mail_send_failed", 1),
        ("mail_send_failed", 2),
        ("mail_sent_after_retry", 3),
    ]
    assert [e["retry_in"] for e in events[:2]] == [60, 300]
    assert events[0]["error"] == "SMTPServerDisconnected"
    assert events[0]["message_id"] == events[1]["message_id"] != ""
    assert "neu@example.cn" not in caplog.text  # counts, not addresses


def test_mail_that_keeps_failing_is_given_up_loudly(flaky_mailer, caplog):
    flaky_mailer.failures = 99
    with caplog.at_level(logging.INFO, logger="academy.ops"):
        EmailMessage("Subject", "Body", to=["a@example.cn"]).send()
    assert mail.outbox == []
    events = _events(caplog)
    assert [e["event"] for e in events] == [
        "mail_send_failed",
        "mail_send_failed",
        "mail_send_gave_up",
    ]
    gave_up = [r for r in caplog.records if "mail_send_gave_up" in r.getMessage()]
    assert gave_up[0].levelno == logging.ERROR


def test_mail_retry_waits_in_the_database_queue(flaky_mailer, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_QUEUE
    flaky_mailer.failures = 1
    EmailMessage("Prüfung 压力", "Body 正文", to=["a@example.cn"]).send()
    assert mail.outbox == []
    retry = DBTaskResult.objects.get()
    assert retry.queue_name == "email"
    assert retry.task_path == "ops.tasks.mail_retry_task"
    assert retry.run_after > timezone.now() + timedelta(seconds=50)
    _worker()  # not due yet
    assert mail.outbox == []
    DBTaskResult.objects.update(run_after=timezone.now() - timedelta(seconds=1))
    _worker()
    retry.refresh_from_db()
    assert retry.status == TaskResultStatus.SUCCESSFUL
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Prüfung 压力"
    assert mail.outbox[0].body.strip() == "Body 正文"


# --- (d) restarting every process loses no queued work -----------------------


def test_restart_loses_no_queued_work(
    world, home_page, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DB_QUEUE
    settings.CERTIFICATES_RENDER_BACKOFF = 0
    course = make_course(
        parent=home_page, publisher=world.lead, certificate_signatory=world.expert
    )
    enrollment = make_completed_enrollment(user=world.learner, course=course)

    # A transaction that fails enqueues nothing (on_commit). The test runs in
    # a transaction of its own; the capture runs what a real commit would.
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        certificate_services.certificate_issue_for_enrollment(enrollment=enrollment)
        raise RuntimeError("request failed")
    assert callbacks == []
    renders = DBTaskResult.objects.filter(
        task_path="certificates.tasks.certificate_render_task"
    )
    assert not renders.exists()
    assert not Certificate.objects.exists()

    # Committed: the render task is a row in the database, not in a process.
    with django_capture_on_commit_callbacks(execute=True):
        certificate = certificate_services.certificate_issue_for_enrollment(
            enrollment=enrollment
        )
    task_row = renders.get()
    assert task_row.status == TaskResultStatus.READY
    assert task_row.queue_name == "pdf"

    # A worker claims it and is killed before it finishes (SIGKILL: no code
    # runs, the claim is committed, the render's own transaction never is).
    task_row.claim("worker-killed")
    Certificate.objects.filter(pk=certificate.pk).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    DBTaskResult.objects.filter(pk=task_row.pk).update(
        started_at=timezone.now() - timedelta(hours=1)
    )
    # Every process restarts; a new worker does not touch a RUNNING row.
    _worker()
    task_row.refresh_from_db()
    assert task_row.status == TaskResultStatus.RUNNING
    certificate.refresh_from_db()
    assert certificate.render_status == RenderStatus.PENDING

    # The recovery command puts it back; the next worker completes it.
    out = mock.Mock()
    call_command("tasks_requeue_abandoned", "--older-than", "30", stdout=out)
    out.write.assert_called_with("re-queued 1 abandoned task(s)\n")
    task_row.refresh_from_db()
    assert task_row.status == TaskResultStatus.READY
    _worker()
    task_row.refresh_from_db()
    assert task_row.status == TaskResultStatus.SUCCESSFUL
    assert task_row.worker_ids[0] == "worker-killed" and len(task_row.worker_ids) == 2
    certificate.refresh_from_db()
    assert certificate.render_status == RenderStatus.READY
    assert _sha256(certificate) == certificate.pdf_sha256
    assert certificate.events.filter(kind=EventKind.RENDERED).count() == 1


def test_requeue_leaves_recent_and_finished_tasks_alone(settings):
    from django_tasks_db.models import DBTaskResult

    from ops.tasks import mail_retry_task

    settings.TASKS = DB_QUEUE
    args = {"alias": "default", "raw": "", "from_email": "", "recipients": []}
    recent = mail_retry_task.enqueue(**args, attempt=2)
    done = mail_retry_task.enqueue(**args, attempt=2)
    rows = {r.pk: r for r in DBTaskResult.objects.all()}
    rows[_pk(recent)].claim("alive")
    rows[_pk(done)].claim("alive")
    rows[_pk(done)].set_successful(True)
    DBTaskResult.objects.update(started_at=timezone.now() - timedelta(hours=3))
    DBTaskResult.objects.filter(pk=_pk(recent)).update(
        started_at=timezone.now() - timedelta(minutes=5)
    )
    from ops.services import tasks_requeue_abandoned

    assert tasks_requeue_abandoned(older_than=timedelta(minutes=30)) == []
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {
        TaskResultStatus.RUNNING,
        TaskResultStatus.SUCCESSFUL,
    }


def _pk(result):
    import uuid

    return uuid.UUID(str(result.id))


def test_requeue_command_refuses_without_the_database_queue():
    with pytest.raises(CommandError, match="not the database queue"):
        call_command("tasks_requeue_abandoned")
