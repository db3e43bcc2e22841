"""Certificates: designs (snippets), per-course settings, issued certificates.

An issued ``Certificate`` is a frozen snapshot: later edits to the learner,
the course or the design never change it. A correction issues a replacement
(``replaces``) and marks the old one superseded.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.search import index

from .codes import format_code

DESIGN_DEFAULT_EXISTS = _(
    "“%(name)s” is already the default design; untick it there first."
)

hex_color = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", _("Enter a colour as #RRGGBB, e.g. #8B1E1E.")
)


def _private_storage():
    return storages["private"]


class CertificateDesign(index.Indexed, models.Model):
    """A certificate layout editors choose per course."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(
        _("default design"),
        default=False,
        help_text=_("Used for courses that have no design chosen."),
    )
    title_zh = models.CharField(_("title (Chinese)"), max_length=30, default="结业证书")
    title_en = models.CharField(
        _("title (English)"), max_length=60, default="Certificate of Completion"
    )
    issuer_name = models.CharField(
        _("issuer"),
        max_length=100,
        default="计量伙伴学院",
        help_text=_("Printed as the issuing body, e.g. 计量伙伴学院."),
    )
    issuer_name_en = models.CharField(
        _("issuer (English)"),
        max_length=150,
        blank=True,
        default="Metrology Partnership Academy",
    )
    accent_color = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#8B1E1E",
        validators=[hex_color],
        help_text=_("Border and title colour, #RRGGBB."),
    )
    accent_soft_color = models.CharField(
        _("secondary colour"),
        max_length=7,
        default="#B08D57",
        validators=[hex_color],
        help_text=_("Inner frame and subtitle colour, #RRGGBB."),
    )
    signatory_label = models.CharField(
        _("signatory label"),
        max_length=60,
        default="授课专家 Expert",
        help_text=_("Printed under the signature line."),
    )
    seal_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("issuer seal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Optional seal image (PNG with transparency works best)."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    panels = [
        FieldPanel("name"),
        FieldPanel("is_default"),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("title_zh"), FieldPanel("title_en")])],
            heading=_("Title"),
        ),
        FieldRowPanel([FieldPanel("issuer_name"), FieldPanel("issuer_name_en")]),
        FieldRowPanel([FieldPanel("accent_color"), FieldPanel("accent_soft_color")]),
        FieldPanel("signatory_label"),
        FieldPanel("seal_image"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("certificate design")
        verbose_name_plural = _("certificate designs")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=Q(is_default=True),
                name="certificates_design_one_default",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.is_default:
            others = CertificateDesign.objects.filter(is_default=True).exclude(
                pk=self.pk
            )
            other = others.first()
            if other is not None:
                raise ValidationError(
                    {
                        "is_default": DESIGN_DEFAULT_EXISTS % {"name": other.name},
                    }
                )


class CourseCertificateSettings(models.Model):
    """Which design a course's certificates use (kept here, not in courses)."""

    course = models.OneToOneField(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="certificate_settings",
    )
    design = models.ForeignKey(
        CertificateDesign,
        verbose_name=_("design"),
        on_delete=models.PROTECT,
        related_name="courses",
    )
    issues_certificates = models.BooleanField(
        _("issues certificates"),
        default=True,
        help_text=_("Untick for courses that give no certificate."),
    )

    panels = [
        FieldPanel("course"),
        FieldPanel("design"),
        FieldPanel("issues_certificates"),
    ]

    class Meta:
        verbose_name = _("course certificate setting")
        verbose_name_plural = _("course certificate settings")

    def __str__(self) -> str:
        return f"{self.course} → {self.design}"


class SerialCounter(models.Model):
    """Last serial number used per year; locked while a certificate is issued."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("serial counter")

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class RenderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class CertificateStatus(models.TextChoices):
    """What the verify page says (computed, never stored)."""

    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    SUPERSEDED = "superseded", _("Superseded")


class CertificateQuerySet(models.QuerySet):
    def current(self) -> CertificateQuerySet:
        """Not replaced by a newer certificate (revoked ones included)."""
        return self.filter(superseded_at__isnull=True)

    def for_user(self, user) -> CertificateQuerySet:
        """Certificates ``user`` may see and download.

        Their own; HR: those of people who are currently members of HR's
        company and were issued while at that company; coordinators: all.
        """
        from organizations.models import Membership, Role
        from organizations.permissions import companies_with_role, is_coordinator

        if not getattr(user, "is_authenticated", False):
            return self.none()
        if is_coordinator(user):
            return self.all()
        hr_companies = companies_with_role(user, Role.HR)
        if not hr_companies:
            return self.filter(user=user)
        members = Membership.objects.active().filter(company_id__in=hr_companies)
        return self.filter(
            Q(user=user)
            | Q(company_id__in=hr_companies, user_id__in=members.values("user_id"))
        )

    def for_company(self, company) -> CertificateQuerySet:
        """Certificates of the company's current members, issued at that company."""
        from organizations.models import Membership

        members = Membership.objects.active().filter(company=company)
        return self.filter(company=company, user_id__in=members.values("user_id"))

    def expiring_on(self, day: date) -> CertificateQuerySet:
        return self.current().filter(revoked_at__isnull=True, valid_until=day)


class Certificate(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("holder"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    enrollment = models.ForeignKey(
        "courses.Enrollment",
        verbose_name=_("enrolment"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
    )
    company = models.ForeignKey(
        "organizations.Company",
        verbose_name=_("company at issue"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="certificates",
    )
    serial = models.CharField(_("serial"), max_length=30, unique=True)
    code = models.CharField(_("verification code"), max_length=13, unique=True)

    # Frozen snapshot of what the certificate certifies.
    holder_name = models.CharField(_("holder's name"), max_length=100)
    holder_latin_name = models.CharField(
        _("holder's name in Latin letters"), max_length=150, blank=True
    )
    employee_number = models.CharField(
        _("employee number at issue"), max_length=50, blank=True
    )
    department = models.CharField(_("department at issue"), max_length=100, blank=True)
    company_name = models.CharField(_("company name"), max_length=200, blank=True)
    course_title = models.CharField(_("course title"), max_length=255)
    course_title_en = models.CharField(
        _("course title (English)"), max_length=255, blank=True
    )
    course_code = models.CharField(_("course code"), max_length=30, blank=True)
    scope = models.TextField(_("scope"), blank=True)
    hours = models.DecimalField(_("training hours"), max_digits=5, decimal_places=1)
    score = models.DecimalField(
        _("score (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    completed_on = models.DateField(_("completed on"))
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    issuer_name = models.CharField(_("issuer"), max_length=100)
    issuer_name_en = models.CharField(_("issuer (English)"), max_length=150, blank=True)
    signatory_name = models.CharField(_("signatory"), max_length=100, blank=True)
    design_snapshot = models.JSONField(_("design at issue"), default=dict)

    # The rendered file.
    render_status = models.CharField(
        _("PDF status"),
        max_length=10,
        choices=RenderStatus.choices,
        default=RenderStatus.PENDING,
    )
    pdf = models.FileField(
        _("PDF"), storage=_private_storage, upload_to="certificates/%Y/", blank=True
    )
    pdf_sha256 = models.CharField(_("PDF SHA-256"), max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(_("PDF size"), default=0)
    render_attempts = models.PositiveSmallIntegerField(default=0)
    render_error = models.TextField(blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)

    # Life cycle.
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by hand by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issue_reason = models.TextField(_("reason for issuing by hand"), blank=True)
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replaced_by",
    )
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.TextField(_("reason for revocation"), blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = ["-issued_on", "-serial"]
        constraints = [
            # Exactly one current certificate per learner and course.
            models.UniqueConstraint(
                fields=["user", "course"],
                condition=Q(superseded_at__isnull=True),
                name="certificates_one_current_per_course",
            ),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoked_reason=""),
                name="certificates_revocation_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(render_status="ready") | ~Q(pdf_sha256=""),
                name="certificates_ready_has_hash",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "issued_on"]),
            models.Index(fields=["render_status"]),
            models.Index(fields=["valid_until"]),
        ]

    def __str__(self) -> str:
        return f"{self.serial} {self.holder_name} · {self.course_title}"

    @property
    def code_display(self) -> str:
        return format_code(self.code)

    def status_on(self, day: date | None = None) -> str:
        day = day or timezone.localdate()
        if self.revoked_at:
            return CertificateStatus.REVOKED
        if self.superseded_at:
            return CertificateStatus.SUPERSEDED
        if self.valid_until and self.valid_until < day:
            return CertificateStatus.EXPIRED
        return CertificateStatus.VALID

    @property
    def status(self) -> str:
        return self.status_on()

    def get_status_display(self) -> str:
        return CertificateStatus(self.status).label

    @property
    def is_pdf_ready(self) -> bool:
        return self.render_status == RenderStatus.READY and bool(self.pdf)


class EventKind(models.TextChoices):
    ISSUED = "issued", _("Issued")
    ISSUED_BY_HAND = "issued_by_hand", _("Issued by hand")
    RENDERED = "rendered", _("PDF rendered")
    RENDER_FAILED = "render_failed", _("PDF rendering failed")
    REVOKED = "revoked", _("Revoked")
    SUPERSEDED = "superseded", _("Superseded")
    REMINDER_SENT = "reminder_sent", _("Expiry reminder sent")


class CertificateEvent(models.Model):
    """Audit log of everything that happened to a certificate."""

    wagtail_reference_index_ignore = True  # logs: keep inserts cheap

    certificate = models.ForeignKey(
        Certificate, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True)

    class Meta:
        verbose_name = _("certificate event")
        verbose_name_plural = _("certificate events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.certificate.serial} {self.get_kind_display()}"


class VerificationResult(models.TextChoices):
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    SUPERSEDED = "superseded", _("Superseded")
    NOT_FOUND = "not_found", _("Not found")
    INVALID = "invalid", _("Invalid input")
    RATE_LIMITED = "rate_limited", _("Rate limited")


class VerificationLog(models.Model):
    """Every verification. The client is a keyed hash, never the raw IP."""

    wagtail_reference_index_ignore = True  # logs: keep inserts cheap

    certificate = models.ForeignKey(
        Certificate,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="verifications",
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    method = models.CharField(max_length=10)  # code / serial / qr
    query = models.CharField(max_length=40, blank=True)
    result = models.CharField(max_length=20, choices=VerificationResult.choices)
    client = models.CharField(max_length=32, db_index=True)

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.query} {self.result}"


class ExpiryReminder(models.Model):
    """One row per reminder sent: each (certificate, days before) at most once."""

    wagtail_reference_index_ignore = True  # logs: keep inserts cheap

    certificate = models.ForeignKey(
        Certificate, on_delete=models.CASCADE, related_name="reminders"
    )
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.TextField(blank=True)

    class Meta:
        verbose_name = _("expiry reminder")
        verbose_name_plural = _("expiry reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "days_before"],
                name="certificates_reminder_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id} -{self.days_before}d"
