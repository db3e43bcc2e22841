"""Issuing, rendering, revoking and verifying certificates.

Every state change goes through a keyword-only function here, inside
``transaction.atomic``; side effects (PDF rendering, e-mail) are scheduled
with ``transaction.on_commit``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import traceback
from dataclasses import dataclass
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from organizations.models import Membership, Role

from .codes import CodeError, format_serial, generate_code, normalize_code
from .models import (
    Certificate,
    CertificateDesign,
    CertificateEvent,
    CourseCertificateSettings,
    EventKind,
    ExpiryReminder,
    RenderStatus,
    SerialCounter,
    VerificationLog,
    VerificationResult,
)
from .permissions import can_issue_certificate, can_revoke_certificate

logger = logging.getLogger("academy.certificates")

CERTIFICATE_NOT_COMPLETED = _(
    "%(name)s has not completed “%(course)s”; a certificate is issued only "
    "for a completed course."
)
CERTIFICATE_EXISTS = _(
    "%(name)s already holds certificate %(serial)s for this course. Re-issue it "
    "instead (for example to correct the name)."
)
CERTIFICATE_REASON_REQUIRED = _("Please give a reason; it is kept in the log.")
CERTIFICATE_ALREADY_REVOKED = _(
    "Certificate %(serial)s was already revoked on %(date)s."
)
CERTIFICATE_SUPERSEDED = _(
    "Certificate %(serial)s has been replaced by %(new)s; act on the new one."
)
CERTIFICATE_NOT_ALLOWED = _("Only programme coordinators may do this.")
CERTIFICATE_NAME_REQUIRED = _("The holder's name cannot be empty.")
CERTIFICATE_COURSE_OFF = _("The course “%(course)s” does not issue certificates.")
VERIFY_SERIAL_NAME_REQUIRED = _(
    "Enter the serial number and the holder's name exactly as printed."
)

REMINDER_DAYS_DEFAULT = (90, 30, 7)


def _setting(name: str, default):
    return getattr(settings, name, default)


def _event(certificate: Certificate, kind: str, *, by=None, note: str = "") -> None:
    CertificateEvent.objects.create(
        certificate=certificate, kind=kind, by=by, note=note[:2000]
    )


# --- issuing ---------------------------------------------------------------


def design_for_course(course) -> CertificateDesign:
    """The course's chosen design, else the default one (created if missing)."""
    chosen = (
        CourseCertificateSettings.objects.filter(course=course)
        .select_related("design", "design__seal_image")
        .first()
    )
    if chosen is not None:
        return chosen.design
    design = (
        CertificateDesign.objects.select_related("seal_image")
        .filter(is_default=True)
        .first()
    )
    if design is None:
        design, _created = CertificateDesign.objects.get_or_create(
            name="标准证书 Standard", defaults={"is_default": True}
        )
    return design


def course_issues_certificates(course) -> bool:
    return not CourseCertificateSettings.objects.filter(
        course=course, issues_certificates=False
    ).exists()


def _membership_at_issue(user) -> Membership | None:
    """The company a certificate names: the learner's current employer."""
    memberships = list(
        Membership.objects.active().filter(user=user).select_related("company")
    )
    if not memberships:
        return None
    order = {Role.LEARNER: 0, Role.HR: 1, Role.EXPERT: 2}
    memberships.sort(key=lambda m: (order.get(m.role, 9), -m.started_on.toordinal()))
    return memberships[0]


def _next_serial(year: int) -> str:
    """Next serial of ``year``. The counter row stays locked until commit, so
    serials are sequential without gaps even when issues race."""
    SerialCounter.objects.get_or_create(year=year)
    counter = SerialCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    prefix = _setting("CERTIFICATES_SERIAL_PREFIX", "MTA")
    return format_serial(prefix, year, counter.last_number)


def _new_code() -> str:
    for _attempt in range(5):
        code = generate_code()
        if not Certificate.objects.filter(code=code).exists():
            return code
    raise RuntimeError("Could not draw a unique verification code.")  # 2^-60 odds


def _valid_until(course, completed_on: date) -> date | None:
    months = course.certificate_validity_months
    if not months:
        return None
    return completed_on + relativedelta(months=months)


def _snapshot(*, user, course, enrollment, completed_on: date) -> dict:
    membership = _membership_at_issue(user)
    design = design_for_course(course)
    from .rendering import design_snapshot

    score = None
    if course.certificate_prints_score and enrollment is not None:
        score = enrollment.score
    signatory = course.certificate_signatory
    return {
        "company": membership.company if membership else None,
        "company_name": membership.company.name if membership else "",
        "employee_number": membership.employee_number if membership else "",
        "department": membership.department if membership else "",
        "holder_name": user.name,
        "holder_latin_name": user.latin_name,
        "course_title": course.title,
        "course_title_en": course.title_en,
        "course_code": course.code,
        "scope": course.certificate_scope,
        "hours": course.estimated_hours,
        "score": score,
        "completed_on": completed_on,
        "valid_until": _valid_until(course, completed_on),
        "issuer_name": design.issuer_name,
        "issuer_name_en": design.issuer_name_en,
        "signatory_name": signatory.name if signatory else "",
        "design_snapshot": design_snapshot(design),
    }


def _schedule_render(certificate: Certificate) -> None:
    from .tasks import certificate_render_task

    certificate_id = certificate.pk
    transaction.on_commit(lambda: certificate_render_task.enqueue(certificate_id))


def _create(
    *,
    user,
    course,
    enrollment,
    completed_on: date,
    issued_by=None,
    reason: str = "",
    replaces: Certificate | None = None,
    overrides: dict | None = None,
) -> Certificate:
    snapshot = _snapshot(
        user=user, course=course, enrollment=enrollment, completed_on=completed_on
    )
    snapshot.update(overrides or {})
    issued_on = timezone.localdate()
    certificate = Certificate(
        user=user,
        course=course,
        enrollment=enrollment,
        serial=_next_serial(issued_on.year),
        code=_new_code(),
        issued_on=issued_on,
        issued_by=issued_by,
        issue_reason=reason,
        replaces=replaces,
        **snapshot,
    )
    certificate.full_clean(
        exclude=["pdf", "replaces", "enrollment"], validate_unique=False
    )
    certificate.save()
    _schedule_render(certificate)
    return certificate


def _current(user, course) -> Certificate | None:
    return Certificate.objects.current().filter(user=user, course=course).first()


@transaction.atomic
def certificate_issue_for_enrollment(*, enrollment) -> Certificate | None:
    """Issue the certificate of a completed enrolment, exactly once.

    Idempotent: a learner who already holds a current certificate for the
    course gets that one back. Safe when two completions race: the serial
    counter lock serialises issuers and the partial unique constraint
    (one current certificate per learner and course) is the backstop.
    """
    from courses.models import EnrollmentStatus

    enrollment = (
        type(enrollment).objects.select_related("user", "course").get(pk=enrollment.pk)
    )
    user, course = enrollment.user, enrollment.course
    if enrollment.status != EnrollmentStatus.COMPLETED:
        raise ValidationError(
            CERTIFICATE_NOT_COMPLETED % {"name": user.name, "course": course.title},
            code="not_completed",
        )
    existing = _current(user, course)
    if existing is not None:
        return existing
    if not course_issues_certificates(course):
        return None
    completed_on = timezone.localdate(enrollment.completed_at)
    try:
        with transaction.atomic():
            # Lock the serial counter first; then look again: a racing issuer
            # that committed meanwhile is now visible.
            SerialCounter.objects.get_or_create(year=timezone.localdate().year)
            list(
                SerialCounter.objects.select_for_update().filter(
                    year=timezone.localdate().year
                )
            )
            existing = _current(user, course)
            if existing is not None:
                return existing
            certificate = _create(
                user=user,
                course=course,
                enrollment=enrollment,
                completed_on=completed_on,
            )
    except IntegrityError:
        existing = _current(user, course)
        if existing is None:
            raise
        return existing
    _event(certificate, EventKind.ISSUED)
    logger.info("Issued certificate %s to user %s", certificate.serial, user.pk)
    return certificate


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(CERTIFICATE_REASON_REQUIRED, code="reason")
    return reason


@transaction.atomic
def certificate_issue_by_hand(*, actor, user, course, reason: str) -> Certificate:
    """A coordinator issues a certificate (e.g. completion recorded offline)."""
    if not can_issue_certificate(actor):
        raise PermissionDenied(CERTIFICATE_NOT_ALLOWED)
    reason = _require_reason(reason)
    existing = _current(user, course)
    if existing is not None:
        raise ValidationError(
            CERTIFICATE_EXISTS % {"name": user.name, "serial": existing.serial},
            code="exists",
        )
    from courses.models import Enrollment

    enrollment = Enrollment.objects.filter(user=user, course=course).first()
    completed_on = timezone.localdate()
    if enrollment is not None and enrollment.completed_at:
        completed_on = timezone.localdate(enrollment.completed_at)
    try:
        with transaction.atomic():
            certificate = _create(
                user=user,
                course=course,
                enrollment=enrollment,
                completed_on=completed_on,
                issued_by=actor,
                reason=reason,
            )
    except IntegrityError as error:
        raise ValidationError(
            CERTIFICATE_EXISTS % {"name": user.name, "serial": "?"}, code="exists"
        ) from error
    _event(certificate, EventKind.ISSUED_BY_HAND, by=actor, note=reason)
    _security_event_on_commit(
        "certificate_issued_by_hand",
        user_id=actor.pk,
        certificate_id=certificate.pk,
        serial=certificate.serial,
    )
    return certificate


@transaction.atomic
def certificate_reissue(
    *,
    actor,
    certificate: Certificate,
    reason: str,
    holder_name: str | None = None,
    holder_latin_name: str | None = None,
) -> Certificate:
    """Issue a replacement that supersedes ``certificate``.

    The replacement takes a fresh snapshot of the learner and course (e.g. a
    corrected name) but keeps the completion date and validity of the
    original; the old record stays and its verify page links to the new one.
    """
    if not can_issue_certificate(actor):
        raise PermissionDenied(CERTIFICATE_NOT_ALLOWED)
    return _reissue(
        actor=actor,
        certificate=certificate,
        reason=_require_reason(reason),
        holder_name=holder_name,
        holder_latin_name=holder_latin_name,
    )


@transaction.atomic
def certificate_renew(*, certificate: Certificate, reason: str) -> Certificate:
    """Re-issue without a coordinator: the holder restored the certificate's
    competence (e.g. completed the refresher course after a procedure
    revision). The new certificate takes the course's current snapshot (and so
    the current competence scopes) and supersedes the old one."""
    return _reissue(actor=None, certificate=certificate, reason=_require_reason(reason))


def _reissue(
    *,
    actor,
    certificate: Certificate,
    reason: str,
    holder_name: str | None = None,
    holder_latin_name: str | None = None,
) -> Certificate:
    old = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if old.superseded_at is not None:
        new = old.replaced_by
        raise ValidationError(
            CERTIFICATE_SUPERSEDED % {"serial": old.serial, "new": new.serial},
            code="superseded",
        )
    overrides: dict = {"completed_on": old.completed_on, "valid_until": old.valid_until}
    if holder_name is not None:
        holder_name = holder_name.strip()
        if not holder_name:
            raise ValidationError(CERTIFICATE_NAME_REQUIRED, code="name")
        overrides["holder_name"] = holder_name
    if holder_latin_name is not None:
        overrides["holder_latin_name"] = holder_latin_name.strip()
    old.superseded_at = timezone.now()
    old.save(update_fields=["superseded_at"])
    new = _create(
        user=old.user,
        course=old.course,
        enrollment=old.enrollment,
        completed_on=old.completed_on,
        issued_by=actor,
        reason=reason,
        replaces=old,
        overrides=overrides,
    )
    _event(old, EventKind.SUPERSEDED, by=actor, note=f"{new.serial}: {reason}")
    _event(
        new,
        EventKind.ISSUED_BY_HAND if actor else EventKind.ISSUED,
        by=actor,
        note=f"replaces {old.serial}: {reason}",
    )
    _security_event_on_commit(
        "certificate_reissued",
        user_id=actor.pk if actor else None,
        certificate_id=new.pk,
        serial=new.serial,
        replaces=old.serial,
    )
    return new


@transaction.atomic
def certificate_revoke(*, actor, certificate: Certificate, reason: str) -> Certificate:
    """Revoke: the record stays, the verify page says revoked with the reason."""
    if not can_revoke_certificate(actor, certificate):
        raise PermissionDenied(CERTIFICATE_NOT_ALLOWED)
    reason = _require_reason(reason)
    certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
    if certificate.revoked_at is not None:
        raise ValidationError(
            CERTIFICATE_ALREADY_REVOKED
            % {
                "serial": certificate.serial,
                "date": timezone.localdate(certificate.revoked_at).isoformat(),
            },
            code="revoked",
        )
    certificate.revoked_at = timezone.now()
    certificate.revoked_reason = reason
    certificate.revoked_by = actor
    certificate.save(update_fields=["revoked_at", "revoked_reason", "revoked_by"])
    _event(certificate, EventKind.REVOKED, by=actor, note=reason)
    _security_event_on_commit(
        "certificate_revoked",
        user_id=actor.pk,
        certificate_id=certificate.pk,
        serial=certificate.serial,
    )
    return certificate


def _security_event_on_commit(event: str, **fields) -> None:
    """One structured ``academy.security`` event, once the change is committed
    (a rolled-back revocation is not logged as one)."""
    from academy.security import security_event

    transaction.on_commit(lambda: security_event(event, **fields))


# --- rendering -------------------------------------------------------------


def certificate_pdf_bytes(certificate: Certificate) -> bytes:
    """The PDF of a certificate, carrying its Open Badges credential.

    A saved certificate gets its credential first (idempotent), so the frozen
    competence scopes are printed and the signed credential is embedded
    (PDF/A-3 attachment). Unsaved sample certificates (previews) print
    ``sample_scopes`` and embed nothing.
    """
    from .renderer import EmbeddedFile, render_certificate_pdf
    from .rendering import certificate_context

    if certificate.pk is None:
        scopes = getattr(certificate, "sample_scopes", [])
        return render_certificate_pdf(certificate_context(certificate, scopes=scopes))
    from credentials.services import credential_embedded_files, credential_issue

    credential = credential_issue(certificate=certificate)
    attachments = [
        EmbeddedFile(name=name, data=data, description=description)
        for name, data, description in credential_embedded_files(credential)
    ]
    return render_certificate_pdf(
        certificate_context(certificate, scopes=credential.scopes),
        attachments=attachments,
    )


def certificate_pdf_name(certificate: Certificate) -> str:
    """Where the PDF of ``certificate`` is stored in the private storage."""
    field = Certificate._meta.get_field("pdf")
    return field.generate_filename(certificate, f"{certificate.serial}.pdf")


def certificate_render(*, certificate_id: int) -> Certificate:
    """Render and store the PDF of a pending or failed certificate.

    A certificate whose PDF is ready is never rendered again: the stored
    file (and its SHA-256) is the record. On error the certificate is marked
    failed with the error, and the exception propagates.
    """
    try:
        with transaction.atomic():
            certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
            if certificate.render_status == RenderStatus.READY and certificate.pdf:
                return certificate
            data = certificate_pdf_bytes(certificate)
            digest = hashlib.sha256(data).hexdigest()
            # The field's upload_to adds the year folder; the full name is
            # also where a render killed midway may have left part of a file.
            name = certificate_pdf_name(certificate)
            storage = certificate.pdf.storage
            if storage.exists(name):
                storage.delete(name)  # a half-written file from a failed attempt
            certificate.pdf.save(
                f"{certificate.serial}.pdf", ContentFile(data), save=False
            )
            certificate.pdf_sha256 = digest
            certificate.pdf_size = len(data)
            certificate.render_status = RenderStatus.READY
            certificate.render_attempts += 1
            certificate.render_error = ""
            certificate.rendered_at = timezone.now()
            certificate.save(
                update_fields=[
                    "pdf",
                    "pdf_sha256",
                    "pdf_size",
                    "render_status",
                    "render_attempts",
                    "render_error",
                    "rendered_at",
                ]
            )
            _event(certificate, EventKind.RENDERED, note=digest)
            return certificate
    except Exception as error:
        _record_render_failure(certificate_id, error)
        raise


def _record_render_failure(certificate_id: int, error: Exception) -> None:
    detail = "".join(traceback.format_exception_only(type(error), error)).strip()
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate_id)
        certificate.render_status = RenderStatus.FAILED
        certificate.render_attempts += 1
        certificate.render_error = detail[:2000]
        certificate.save(
            update_fields=["render_status", "render_attempts", "render_error"]
        )
        _event(certificate, EventKind.RENDER_FAILED, note=detail)
    logger.error(
        "Rendering certificate %s failed (attempt %s): %s",
        certificate.serial,
        certificate.render_attempts,
        detail,
    )


def certificate_render_with_retries(
    *, certificate_id: int, attempts: int | None = None, backoff: float | None = None
) -> Certificate:
    """Render, retrying with back-off; the last failure stays recorded."""
    attempts = attempts or _setting("CERTIFICATES_RENDER_ATTEMPTS", 3)
    backoff = (
        _setting("CERTIFICATES_RENDER_BACKOFF", 2.0) if backoff is None else backoff
    )
    for attempt in range(1, attempts + 1):
        try:
            return certificate_render(certificate_id=certificate_id)
        except Exception:
            if attempt == attempts:
                raise
            time.sleep(backoff * attempt)
    raise AssertionError("unreachable")


def certificate_rerender_stuck(*, older_than: timedelta = timedelta(minutes=10)) -> int:
    """Re-queue failed renders and pending ones that waited too long."""
    from .tasks import certificate_render_task

    cutoff = timezone.now() - older_than
    ids = list(
        Certificate.objects.filter(
            Q(render_status=RenderStatus.FAILED)
            | Q(render_status=RenderStatus.PENDING, created_at__lt=cutoff)
        ).values_list("pk", flat=True)
    )
    for certificate_id in ids:
        certificate_render_task.enqueue(certificate_id)
    return len(ids)


# --- verifying -------------------------------------------------------------


@dataclass
class Verification:
    result: str
    certificate: Certificate | None = None
    error: str = ""


def client_key(ip: str) -> str:
    """A keyed, daily-rotating hash of the client's address (never the IP)."""
    day = timezone.localdate().isoformat()
    message = f"{day}|{ip}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[
        :32
    ]


def _result_for(certificate: Certificate | None) -> str:
    if certificate is None:
        return VerificationResult.NOT_FOUND
    return certificate.status


def verification_record(
    *, client: str, method: str, query: str, result: str, certificate=None
) -> None:
    VerificationLog.objects.create(
        client=client,
        method=method,
        query=query[:40],
        result=result,
        certificate=certificate,
    )


def certificate_verify_code(*, raw_code: str, client: str, method: str = "code"):
    """Look a certificate up by verification code, and log the attempt."""
    from .selectors import certificate_get_by_code

    try:
        code = normalize_code(raw_code)
    except CodeError as error:
        verification_record(
            client=client,
            method=method,
            query=(raw_code or "")[:40],
            result=VerificationResult.INVALID,
        )
        return Verification(VerificationResult.INVALID, error=str(error.message))
    certificate = certificate_get_by_code(code)
    result = _result_for(certificate)
    verification_record(
        client=client, method=method, query=code, result=result, certificate=certificate
    )
    return Verification(result, certificate)


def certificate_verify_serial(*, serial: str, holder_name: str, client: str):
    """Look a certificate up by serial plus the holder's name as printed."""
    from .codes import normalize_serial
    from .selectors import certificate_get_by_serial_and_name

    serial = normalize_serial(serial)
    holder_name = " ".join((holder_name or "").split())
    if not serial or not holder_name:
        verification_record(
            client=client,
            method="serial",
            query=serial,
            result=VerificationResult.INVALID,
        )
        return Verification(
            VerificationResult.INVALID, error=str(VERIFY_SERIAL_NAME_REQUIRED)
        )
    certificate = certificate_get_by_serial_and_name(serial, holder_name)
    result = _result_for(certificate)
    verification_record(
        client=client,
        method="serial",
        query=serial,
        result=result,
        certificate=certificate,
    )
    return Verification(result, certificate)


# --- expiry reminders ----------------------------------------------------


def _reminder_recipients(certificate: Certificate) -> list[str]:
    recipients = [certificate.user.email]
    if certificate.company_id:
        hr_emails = (
            Membership.objects.active()
            .filter(company_id=certificate.company_id, role=Role.HR)
            .values_list("user__email", flat=True)
        )
        if (
            Membership.objects.active()
            .filter(company_id=certificate.company_id, user_id=certificate.user_id)
            .exists()
        ):
            recipients.extend(hr_emails)
    return sorted(set(recipients))


def certificate_send_expiry_reminders(*, today: date | None = None) -> int:
    """E-mail learners and their HR 90/30/7 days before valid-until.

    Each (certificate, days before) is sent at most once: the reminder row is
    inserted first under a unique constraint and the mail goes out on commit.
    Missed days (e.g. the scheduler was down) are caught up as long as the
    certificate has not expired.
    """
    today = today or timezone.localdate()
    days_list = sorted(
        _setting("CERTIFICATES_REMINDER_DAYS", REMINDER_DAYS_DEFAULT), reverse=True
    )
    sent = 0
    for days in days_list:
        due = (
            Certificate.objects.current()
            .filter(
                revoked_at__isnull=True,
                valid_until__gte=today,
                valid_until__lte=today + timedelta(days=days),
            )
            .exclude(reminders__days_before__lte=days)
            .select_related("user")
        )
        for certificate in due:
            if _reminder_create(certificate=certificate, days_before=days):
                sent += 1
    return sent


def _reminder_create(*, certificate: Certificate, days_before: int) -> bool:
    recipients = _reminder_recipients(certificate)
    try:
        with transaction.atomic():
            ExpiryReminder.objects.create(
                certificate=certificate,
                days_before=days_before,
                recipients=", ".join(recipients),
            )
            _event(
                certificate,
                EventKind.REMINDER_SENT,
                note=f"{days_before}: {', '.join(recipients)}",
            )
            certificate_id = certificate.pk
            transaction.on_commit(
                lambda: _send_reminder_mail(certificate_id, recipients, days_before)
            )
    except IntegrityError:
        return False
    return True


def _send_reminder_mail(certificate_id: int, recipients: list[str], days: int) -> None:
    from .rendering import verify_url

    certificate = Certificate.objects.get(pk=certificate_id)
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "certificate": certificate,
            "days": days,
            "verify_url": verify_url(certificate),
        }
        subject = render_to_string(
            "certificates/email/expiry_subject.txt", context
        ).strip()
        body = render_to_string("certificates/email/expiry_body.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=recipients)
    message.send()


def certificate_issue_missing() -> int:
    """Issue certificates for completed enrolments that have none (e.g. the
    completion event was lost). Returns how many were issued."""
    from courses.models import Enrollment, EnrollmentStatus

    missing = (
        Enrollment.objects.filter(status=EnrollmentStatus.COMPLETED)
        .exclude(course__certificate_settings__issues_certificates=False)
        .exclude(
            pk__in=Certificate.objects.filter(enrollment__isnull=False).values(
                "enrollment_id"
            )
        )
        .exclude(
            user_id__in=Certificate.objects.current()
            .filter(course_id=OuterRef("course_id"))
            .values("user_id")
        )
    )
    issued = 0
    for enrollment in missing:
        if certificate_issue_for_enrollment(enrollment=enrollment) is not None:
            issued += 1
    return issued


# --- bulk code check ------------------------------------------------------------

BULK_MAX_CODES = 200
BULK_EMPTY = _("Paste at least one verification code.")
BULK_TOO_MANY = _(
    "You entered %(count)s codes; at most %(max)s can be checked at once. "
    "Nothing was looked up: split the list and check it in parts."
)


class BulkStatus:
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"
    RENEWAL = "renewal_required"
    SUSPENDED = "suspended"
    UNKNOWN = "unknown"
    TYPO = "typo"
    INVALID = "invalid"

    LABELS = {
        VALID: _("Valid"),
        EXPIRED: _("Expired"),
        REVOKED: _("Revoked"),
        SUPERSEDED: _("Superseded"),
        RENEWAL: _("Renewal required"),
        SUSPENDED: _("Suspended"),
        UNKNOWN: _("Unknown code"),
        TYPO: _("Typing error"),
        INVALID: _("Not a verification code"),
    }


@dataclass
class BulkRow:
    typed: str
    code: str = ""  # normalised; empty when the input is not a valid code
    cleaned: str = ""  # as far as it could be normalised (shown for typos)
    status: str = ""
    certificate: Certificate | None = None
    error: str = ""

    @property
    def code_display(self) -> str:
        from .codes import format_code

        if self.code:
            return format_code(self.code)
        if self.status == BulkStatus.TYPO:
            return format_code(self.cleaned)
        return ""

    @property
    def status_label(self) -> str:
        return str(BulkStatus.LABELS[self.status])


def bulk_status_of(certificate: Certificate, today=None) -> str:
    """Certificate status plus the credential's suspension / renewal marks."""
    from .models import CertificateStatus

    status = certificate.status_on(today)
    if status in (CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED):
        return status
    credential = getattr(certificate, "credential", None)
    if credential is not None and credential.suspended_at:
        return BulkStatus.SUSPENDED
    if status == CertificateStatus.EXPIRED:
        return status
    if credential is not None and credential.renewal_required_at:
        return BulkStatus.RENEWAL
    return status


def certificate_verify_codes(*, raw_codes: list[str], client: str) -> list[BulkRow]:
    """Check up to BULK_MAX_CODES codes: one lookup query and one insert of
    the log rows, whatever the number of codes. More codes (or none) are
    refused with a ValidationError before anything is looked up or logged."""
    from .codes import CODE_CHECK_FAILED, clean_code

    raw_codes = [c for c in raw_codes if c and c.strip()]
    if not raw_codes:
        raise ValidationError(BULK_EMPTY, code="empty")
    if len(raw_codes) > BULK_MAX_CODES:
        raise ValidationError(
            BULK_TOO_MANY % {"count": len(raw_codes), "max": BULK_MAX_CODES},
            code="too_many",
        )
    rows = []
    for typed in raw_codes:
        row = BulkRow(typed=typed[:60])
        try:
            row.code = normalize_code(typed)
        except CodeError as error:
            row.error = str(error.message)
            row.cleaned = clean_code(typed)[:20]
            row.status = (
                BulkStatus.TYPO
                if str(error.message) == str(CODE_CHECK_FAILED)
                else BulkStatus.INVALID
            )
        rows.append(row)
    codes = {row.code for row in rows if row.code}
    found = {
        c.code: c
        for c in Certificate.objects.filter(code__in=codes).select_related(
            "credential", "replaced_by"
        )
    }
    today = timezone.localdate()
    logs = []
    for row in rows:
        if row.code:
            row.certificate = found.get(row.code)
            if row.certificate is None:
                row.status = BulkStatus.UNKNOWN
                result = VerificationResult.NOT_FOUND
            else:
                row.status = bulk_status_of(row.certificate, today)
                result = row.certificate.status_on(today)
        else:
            result = VerificationResult.INVALID
        logs.append(
            VerificationLog(
                client=client,
                method="bulk",
                query=(row.code or row.typed)[:40],
                result=result,
                certificate=row.certificate,
            )
        )
    VerificationLog.objects.bulk_create(logs)
    return rows
