"""HR workspace state: course assignments, export jobs, bulk imports, digests."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _private_storage():
    return storages["private"]


class CourseAssignmentQuerySet(models.QuerySet):
    def for_user(self, user) -> CourseAssignmentQuerySet:
        """Assignments ``user`` may see: HR of the company (for people who are
        still members, or pending invitees), coordinators all."""
        from organizations.models import Membership, Role
        from organizations.permissions import companies_with_role, is_coordinator

        if not getattr(user, "is_authenticated", False):
            return self.none()
        if is_coordinator(user):
            return self.all()
        hr_companies = companies_with_role(user, Role.HR)
        members = Membership.objects.active().filter(company_id__in=hr_companies)
        return self.filter(company_id__in=hr_companies).filter(
            Q(user__isnull=True) | Q(user_id__in=members.values("user_id"))
        )


class CourseAssignment(models.Model):
    """HR asked an employee (or a pending invitee) to take a course."""

    company = models.ForeignKey(
        "organizations.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="course_assignments",
    )
    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="hr_assignments",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("employee"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="course_assignments",
    )
    invitation = models.ForeignKey(
        "organizations.Invitation",
        verbose_name=_("invitation"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="course_assignments",
        help_text=_("Set while the invitee has not signed up yet."),
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = CourseAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("course assignment")
        verbose_name_plural = _("course assignments")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "course", "user"],
                condition=Q(user__isnull=False),
                name="hr_assignment_one_per_user",
            ),
            models.UniqueConstraint(
                fields=["company", "course", "invitation"],
                condition=Q(user__isnull=True, invitation__isnull=False),
                name="hr_assignment_one_per_invitation",
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(invitation__isnull=False),
                name="hr_assignment_has_person",
            ),
        ]
        indexes = [models.Index(fields=["company", "due_on"])]

    def __str__(self) -> str:
        who = self.user or (self.invitation.email if self.invitation else "?")
        return f"{who} → {self.course_id}"


class DigestPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="hr_digest_preference",
    )
    weekly_digest = models.BooleanField(_("receive the weekly HR digest"), default=True)

    class Meta:
        verbose_name = _("HR digest preference")

    def __str__(self) -> str:
        return f"{self.user}: {self.weekly_digest}"


class DigestLog(models.Model):
    """One row per digest sent; a week's digest goes out at most once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    company = models.ForeignKey(
        "organizations.Company", on_delete=models.CASCADE, related_name="+"
    )
    week = models.CharField(max_length=8, help_text="ISO week, e.g. 2026-W48")
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "company", "week"], name="hr_digest_once_per_week"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.company_id} {self.week}"


class ExportKind(models.TextChoices):
    MATRIX = "matrix", _("Employee × course matrix")
    HOURS = "hours", _("Training-hours report")
    COMPETENCE = "competence", _("Competence matrix")


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel (XLSX)")
    CSV = "csv", _("CSV (UTF-8)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class CompanyHrQuerySet(models.QuerySet):
    """Rows that belong to one company's HR: its HR staff and coordinators see them."""

    def for_user(self, user) -> CompanyHrQuerySet:
        from organizations.models import Role
        from organizations.permissions import companies_with_role, is_coordinator

        if not getattr(user, "is_authenticated", False):
            return self.none()
        if is_coordinator(user):
            return self.all()
        return self.filter(company_id__in=companies_with_role(user, Role.HR))


class ExportJob(models.Model):
    company = models.ForeignKey(
        "organizations.Company", on_delete=models.CASCADE, related_name="hr_exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("report"), max_length=10, choices=ExportKind.choices)
    fmt = models.CharField(_("format"), max_length=5, choices=ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(storage=_private_storage, upload_to="hr-exports/%Y/%m/")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = CompanyHrQuerySet.as_manager()

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.fmt} #{self.pk}"

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.rows_total:
            return 0
        return min(99, int(self.rows_done * 100 / self.rows_total))

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)


class ImportStatus(models.TextChoices):
    PREVIEW = "preview", _("Preview")
    APPLIED = "applied", _("Applied")


class BulkImport(models.Model):
    """An uploaded invitation file: parsed rows kept until HR confirms."""

    company = models.ForeignKey(
        "organizations.Company", on_delete=models.CASCADE, related_name="hr_imports"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    encoding = models.CharField(max_length=20, blank=True)
    rows = models.JSONField(default=list)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PREVIEW
    )
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bulk import")
        verbose_name_plural = _("bulk imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"


# --- auditor links --------------------------------------------------------------------


class AuditorLink(models.Model):
    """A time-limited, revocable read-only view of the company's competence
    matrix for an external auditor. Only a SHA-256 hash of the token is
    stored; the URL is shown once, when the link is created."""

    company = models.ForeignKey(
        "organizations.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="auditor_links",
    )
    label = models.CharField(
        _("label"), max_length=200, help_text=_("e.g. ISO/IEC 17025 audit 2026")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(
        _("limited to scopes"),
        default=list,
        blank=True,
        help_text=_("Frozen scope snapshots (with their key); empty = all scopes."),
    )
    expires_on = models.DateField(_("valid until (inclusive)"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = CompanyHrQuerySet.as_manager()

    class Meta:
        verbose_name = _("auditor link")
        verbose_name_plural = _("auditor links")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def scope_keys(self) -> list[str]:
        return [scope["key"] for scope in self.scopes or [] if scope.get("key")]

    def is_expired(self, today=None) -> bool:
        return (today or timezone.localdate()) > self.expires_on

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired()


class AuditorAccessOutcome(models.TextChoices):
    OK = "ok", _("Opened")
    EXPIRED = "expired", _("Refused: expired")
    REVOKED = "revoked", _("Refused: revoked")


class AuditorAccess(models.Model):
    """One request on an auditor link. The client is a keyed, daily-rotating
    hash (as in the certificates ``VerificationLog``), never the address."""

    wagtail_reference_index_ignore = True  # logs: keep inserts cheap

    link = models.ForeignKey(
        AuditorLink, on_delete=models.CASCADE, related_name="accesses"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    client = models.CharField(max_length=32)
    outcome = models.CharField(max_length=10, choices=AuditorAccessOutcome.choices)

    class Meta:
        verbose_name = _("auditor access")
        verbose_name_plural = _("auditor accesses")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.link_id} {self.at:%Y-%m-%d %H:%M} {self.outcome}"
