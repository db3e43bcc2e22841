import hashlib
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from certificates import services
from certificates.models import (
    Certificate,
    CertificateDesign,
    CertificateEvent,
    CourseCertificateSettings,
    EventKind,
    RenderStatus,
    SerialCounter,
)
from courses.models import EnrollmentStatus
from courses.signals import course_completed

from .factories import make_completed_enrollment, make_course

pytestmark = pytest.mark.django_db


def test_issue_snapshot(world, course, certificate):
    year = timezone.localdate().year
    assert certificate.serial == f"MTA-{year}-000001"
    assert len(certificate.code) == 13
    assert certificate.holder_name == "刘堃"
    assert certificate.company == world.partner_sme
    assert certificate.company_name == "苏州恒准压力仪表有限公司"
    assert certificate.course_title == course.title
    assert certificate.course_title_en == course.title_en
    assert certificate.hours == Decimal("16.0")
    assert certificate.score == Decimal("92.50")
    assert certificate.signatory_name == "李建国"
    assert certificate.valid_until == certificate.completed_on.replace(
        year=certificate.completed_on.year + 3
    )
    assert certificate.issuer_name == "计量伙伴学院"
    assert certificate.render_status == RenderStatus.READY
    data = certificate.pdf.read()
    assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
    assert certificate.pdf_size == len(data)
    kinds = list(certificate.events.values_list("kind", flat=True))
    assert kinds == [EventKind.ISSUED, EventKind.RENDERED]


def test_score_not_printed_unless_course_says_so(world, home_page):
    course = make_course(
        parent=home_page, publisher=world.lead, certificate_prints_score=False
    )
    enrollment = make_completed_enrollment(user=world.learner, course=course)
    certificate = services.certificate_issue_for_enrollment(enrollment=enrollment)
    assert certificate.score is None


def test_no_validity_means_no_expiry(world, home_page):
    course = make_course(
        parent=home_page, publisher=world.lead, certificate_validity_months=None
    )
    enrollment = make_completed_enrollment(user=world.learner, course=course)
    certificate = services.certificate_issue_for_enrollment(enrollment=enrollment)
    assert certificate.valid_until is None


def test_issue_is_idempotent(enrollment):
    first = services.certificate_issue_for_enrollment(enrollment=enrollment)
    second = services.certificate_issue_for_enrollment(enrollment=enrollment)
    assert first.pk == second.pk
    assert Certificate.objects.count() == 1
    assert SerialCounter.objects.get().last_number == 1


def test_not_completed_is_refused_and_changes_nothing(enrollment):
    enrollment.status = EnrollmentStatus.ACTIVE
    enrollment.completed_at = None
    enrollment.save()
    with pytest.raises(ValidationError, match="has not completed"):
        services.certificate_issue_for_enrollment(enrollment=enrollment)
    assert not Certificate.objects.exists()
    assert not SerialCounter.objects.filter(last_number__gt=0).exists()


def test_course_without_certificates(enrollment, course):
    design = CertificateDesign.objects.create(name="x")
    CourseCertificateSettings.objects.create(
        course=course, design=design, issues_certificates=False
    )
    assert services.certificate_issue_for_enrollment(enrollment=enrollment) is None
    assert not Certificate.objects.exists()


def test_serials_are_sequential(world, home_page):
    course = make_course(parent=home_page, publisher=world.lead)
    serials = []
    for user in (world.learner, world.other_learner, world.hr):
        enrollment = make_completed_enrollment(user=user, course=course)
        serials.append(services.certificate_issue_for_enrollment(enrollment=enrollment))
    year = timezone.localdate().year
    assert [c.serial for c in serials] == [
        f"MTA-{year}-000001",
        f"MTA-{year}-000002",
        f"MTA-{year}-000003",
    ]


def test_completion_signal_issues_certificate(
    enrollment, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        course_completed.send(sender=type(enrollment), enrollment=enrollment)
        course_completed.send(sender=type(enrollment), enrollment=enrollment)
    certificate = Certificate.objects.get()
    assert certificate.render_status == RenderStatus.READY


def test_later_edits_do_not_change_issued_certificate(world, course, certificate):
    sha = certificate.pdf_sha256
    world.learner.name = "刘坤"
    world.learner.save()
    course.title = "改名后的课程"
    course.save()
    design = CertificateDesign.objects.get(is_default=True)
    design.title_zh = "新标题"
    design.save()
    services.certificate_render(certificate_id=certificate.pk)  # no re-render
    certificate.refresh_from_db()
    assert certificate.holder_name == "刘堃"
    assert certificate.course_title != "改名后的课程"
    assert certificate.design_snapshot["title_zh"] == "结业证书"
    assert certificate.pdf_sha256 == sha


def test_reissue_supersedes_with_corrected_name(
    world, certificate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        new = services.certificate_reissue(
            actor=world.coordinator,
            certificate=certificate,
            reason="姓名录入错误",
            holder_name="刘 堃 ",
            holder_latin_name="Liu Kun",
        )
    certificate.refresh_from_db()
    new.refresh_from_db()
    assert certificate.superseded_at is not None
    assert certificate.replaced_by == new
    assert new.replaces == certificate
    assert new.holder_name == "刘 堃"
    assert new.holder_latin_name == "Liu Kun"
    assert new.valid_until == certificate.valid_until
    assert new.completed_on == certificate.completed_on
    assert new.serial != certificate.serial
    assert new.code != certificate.code
    assert new.render_status == RenderStatus.READY
    assert certificate.status == "superseded"
    assert new.status == "valid"
    with pytest.raises(ValidationError, match="replaced by"):
        services.certificate_reissue(
            actor=world.coordinator, certificate=certificate, reason="again"
        )


@pytest.mark.parametrize("who", ["learner", "hr", "expert", "lead_hr"])
def test_only_coordinators_reissue_revoke_issue(world, certificate, who, course):
    actor = getattr(world, who)
    with pytest.raises(PermissionDenied):
        services.certificate_reissue(actor=actor, certificate=certificate, reason="x")
    with pytest.raises(PermissionDenied):
        services.certificate_revoke(actor=actor, certificate=certificate, reason="x")
    with pytest.raises(PermissionDenied):
        services.certificate_issue_by_hand(
            actor=actor, user=world.other_learner, course=course, reason="x"
        )
    certificate.refresh_from_db()
    assert certificate.revoked_at is None and certificate.superseded_at is None
    assert Certificate.objects.count() == 1


def test_revoke(world, certificate):
    services.certificate_revoke(
        actor=world.coordinator, certificate=certificate, reason="考核作弊"
    )
    certificate.refresh_from_db()
    assert certificate.status == "revoked"
    assert certificate.revoked_reason == "考核作弊"
    assert certificate.revoked_by == world.coordinator
    assert certificate.pdf  # the record and file stay
    assert CertificateEvent.objects.filter(
        certificate=certificate, kind=EventKind.REVOKED, note="考核作弊"
    ).exists()
    with pytest.raises(ValidationError, match="already revoked"):
        services.certificate_revoke(
            actor=world.coordinator, certificate=certificate, reason="again"
        )


def test_revoke_needs_reason(world, certificate):
    with pytest.raises(ValidationError, match="reason"):
        services.certificate_revoke(
            actor=world.coordinator, certificate=certificate, reason="  "
        )
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_issue_by_hand(world, course):
    certificate = services.certificate_issue_by_hand(
        actor=world.coordinator,
        user=world.other_learner,
        course=course,
        reason="线下考核通过",
    )
    assert certificate.issued_by == world.coordinator
    assert certificate.holder_name == "周㛃"
    assert certificate.company == world.other_sme
    with pytest.raises(ValidationError, match="already holds"):
        services.certificate_issue_by_hand(
            actor=world.coordinator,
            user=world.other_learner,
            course=course,
            reason="again",
        )
    assert Certificate.objects.count() == 1


def test_expiry_status(certificate):
    assert certificate.status_on(certificate.valid_until) == "valid"
    assert (
        certificate.status_on(certificate.valid_until + timedelta(days=1)) == "expired"
    )


def test_render_failure_is_recorded_and_retried(
    enrollment, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []

    def broken(certificate):
        calls.append(certificate.pk)
        raise RuntimeError("fonts missing")

    monkeypatch.setattr(services, "certificate_pdf_bytes", broken)
    with django_capture_on_commit_callbacks(execute=True):
        certificate = services.certificate_issue_for_enrollment(enrollment=enrollment)
    certificate.refresh_from_db()
    assert len(calls) == 3  # CERTIFICATES_RENDER_ATTEMPTS
    assert certificate.render_status == RenderStatus.FAILED
    assert certificate.render_attempts == 3
    assert "fonts missing" in certificate.render_error
    assert not certificate.pdf
    monkeypatch.undo()
    assert services.certificate_rerender_stuck() == 1
    certificate.refresh_from_db()
    assert certificate.render_status == RenderStatus.READY
    assert certificate.render_error == ""


def test_issue_missing_catches_lost_events(enrollment):
    assert services.certificate_issue_missing() == 1
    assert services.certificate_issue_missing() == 0
    assert Certificate.objects.count() == 1


def test_expiry_reminders_each_once(
    world, certificate, mailoutbox, django_capture_on_commit_callbacks
):
    valid_until = certificate.valid_until
    with django_capture_on_commit_callbacks(execute=True):
        _send_reminders(valid_until)
    assert len(mailoutbox) == 3
    message = mailoutbox[0]
    assert set(message.to) == {world.learner.email, world.hr.email}
    assert certificate.serial in message.subject
    assert world.other_hr.email not in message.to


def _send_reminders(valid_until):
    sent = services.certificate_send_expiry_reminders(
        today=valid_until - timedelta(days=100)
    )
    assert sent == 0
    assert (
        services.certificate_send_expiry_reminders(
            today=valid_until - timedelta(days=90)
        )
        == 1
    )
    assert (
        services.certificate_send_expiry_reminders(
            today=valid_until - timedelta(days=90)
        )
        == 0
    )
    assert (
        services.certificate_send_expiry_reminders(
            today=valid_until - timedelta(days=29)
        )
        == 1
    )
    assert (
        services.certificate_send_expiry_reminders(
            today=valid_until - timedelta(days=7)
        )
        == 1
    )
    assert (
        services.certificate_send_expiry_reminders(
            today=valid_until - timedelta(days=1)
        )
        == 0
    )


def test_no_reminders_for_revoked(world, certificate, mailoutbox):
    services.certificate_revoke(
        actor=world.coordinator, certificate=certificate, reason="x"
    )
    services.certificate_send_expiry_reminders(
        today=certificate.valid_until - timedelta(days=7)
    )
    assert mailoutbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_completions_issue_once(world, home_page):
    course = make_course(parent=home_page, publisher=world.lead)
    enrollment = make_completed_enrollment(user=world.learner, course=course)
    other = make_completed_enrollment(user=world.other_learner, course=course)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def work(target):
        try:
            barrier.wait()
            results.append(services.certificate_issue_for_enrollment(enrollment=target))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=work, args=(enrollment if i % 2 else other,))
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Certificate.objects.count() == 2
    numbers = sorted(int(c.serial.rsplit("-", 1)[1]) for c in Certificate.objects.all())
    assert numbers == [1, 2]
    assert len({c.pk for c in results}) == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_serials_have_no_gaps(world, home_page):
    course = make_course(parent=home_page, publisher=world.lead)
    from tests.factories import UserFactory

    enrollments = [
        make_completed_enrollment(user=UserFactory(), course=course) for _ in range(12)
    ]
    barrier = threading.Barrier(len(enrollments))
    errors = []

    def work(target):
        try:
            barrier.wait()
            services.certificate_issue_for_enrollment(enrollment=target)
        except Exception as error:  # pragma: no cover
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(e,)) for e in enrollments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(int(c.serial.rsplit("-", 1)[1]) for c in Certificate.objects.all())
    assert numbers == list(range(1, 13))


def test_dates_in_shanghai(world, home_page):
    course = make_course(parent=home_page, publisher=world.lead)
    # 2026-03-01 01:00 in Shanghai is still 28 Feb in UTC.
    moment = timezone.make_aware(timezone.datetime(2026, 2, 28, 17, 0), timezone.UTC)
    enrollment = make_completed_enrollment(
        user=world.learner, course=course, completed_at=moment
    )
    certificate = services.certificate_issue_for_enrollment(enrollment=enrollment)
    assert certificate.completed_on == date(2026, 3, 1)
