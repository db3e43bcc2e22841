"""Open Badges 3.0 credentials for issued certificates.

- ``SigningKey``: the platform's ES256 keys. The private key is stored as an
  encrypted PEM (password derived from ``CREDENTIALS_KEY_PASSWORD`` or
  ``SECRET_KEY``) and is never served; every public key stays published in the
  JWKS after rotation.
- ``StatusList``: one Bitstring Status List (published twice: revocation and
  suspension purposes) with a monotonically increasing index counter.
- ``Credential``: the signed ``OpenBadgeCredential`` of one certificate and
  its status index. ``(status_list, status_index)`` is unique and rows are
  never deleted (PROTECT), so an index is never reused.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel

STATUS_LIST_SIZE = 131072  # bits; the minimum the Bitstring Status List spec asks


class StatusPurpose(models.TextChoices):
    REVOCATION = "revocation", _("Revocation")
    SUSPENSION = "suspension", _("Suspension")


class SigningKey(models.Model):
    kid = models.CharField(_("key id"), max_length=64, unique=True)
    algorithm = models.CharField(max_length=10, default="ES256")
    public_jwk = models.JSONField(_("public key (JWK)"))
    private_pem = models.BinaryField(_("encrypted private key (PEM)"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=Q(is_active=True),
                name="credentials_one_active_key",
            )
        ]

    def __str__(self) -> str:
        return self.kid


class StatusList(models.Model):
    size = models.PositiveIntegerField(default=STATUS_LIST_SIZE)
    next_index = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("status list")
        verbose_name_plural = _("status lists")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(next_index__lte=models.F("size")),
                name="credentials_status_list_not_overfull",
            )
        ]

    def __str__(self) -> str:
        return f"status list {self.pk} ({self.next_index}/{self.size})"


class Credential(models.Model):
    """The OpenBadgeCredential of one certificate."""

    certificate = models.OneToOneField(
        "certificates.Certificate",
        verbose_name=_("certificate"),
        on_delete=models.PROTECT,
        related_name="credential",
    )
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, related_name="credentials"
    )
    status_index = models.PositiveIntegerField(_("status list index"))
    signing_key = models.ForeignKey(
        SigningKey, on_delete=models.PROTECT, related_name="credentials"
    )
    payload = models.JSONField(_("credential (JSON)"))
    jwt = models.TextField(_("credential (VC-JWT)"))
    scopes = models.JSONField(_("competence scopes at issue"), default=list)
    renewal_required_at = models.DateTimeField(
        _("renewal required since"), null=True, blank=True
    )
    renewal_reason = models.TextField(_("why renewal is required"), blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    suspended_reason = models.TextField(_("reason for suspension"), blank=True)
    issued_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["status_list", "status_index"],
                name="credentials_status_index_unique",
            ),
            models.CheckConstraint(
                condition=Q(suspended_at__isnull=True) | ~Q(suspended_reason=""),
                name="credentials_suspension_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"urn:uuid:{self.uuid}"

    @property
    def urn(self) -> str:
        return f"urn:uuid:{self.uuid}"

    @property
    def is_revoked(self) -> bool:
        """Revoked or superseded certificates set the revocation bit."""
        certificate = self.certificate
        return bool(certificate.revoked_at or certificate.superseded_at)

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


# --- competence scope -----------------------------------------------------------

RANGE_INVERTED = _(
    "The lower range limit (%(low)s) is above the upper limit (%(high)s)."
)
UNKNOWN_REVISION = _(
    "“%(revision)s” is not a recorded revision of %(procedure)s; record it first."
)


class AuthorisationLevel(models.TextChoices):
    TRAINEE = "trainee", _("Trainee")
    SUPERVISED = "supervised", _("May perform under supervision")
    PERFORM = "perform", _("May perform")
    APPROVE = "approve", _("May approve and sign calibration results")


class Procedure(ClusterableModel):
    """A verification regulation, standard or in-house procedure, e.g. JJG 52."""

    code = models.CharField(
        _("code"), max_length=50, unique=True, help_text=_("e.g. JJG 52 or QP-CAL-07")
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    is_in_house = models.BooleanField(_("in-house procedure"), default=False)

    panels = [
        FieldPanel("code"),
        FieldPanel("title"),
        FieldPanel("is_in_house"),
        InlinePanel("revisions", label=_("Revisions")),
    ]

    class Meta:
        verbose_name = _("procedure or standard")
        verbose_name_plural = _("procedures and standards")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ProcedureRevision(models.Model):
    procedure = ParentalKey(
        Procedure, on_delete=models.CASCADE, related_name="revisions"
    )
    revision = models.CharField(
        _("revision"), max_length=30, help_text=_("e.g. 2013 or Rev. C")
    )
    effective_on = models.DateField(_("effective on"), null=True, blank=True)

    class Meta:
        verbose_name = _("procedure revision")
        ordering = ["procedure", "effective_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "revision"], name="credentials_revision_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code}-{self.revision}"


class CompetenceScope(models.Model):
    """One scope a course certifies; frozen into the credential at issue."""

    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="competence_scopes",
    )
    instrument_class = models.CharField(
        _("instrument class"), max_length=100, help_text=_("e.g. 弹簧管式压力表")
    )
    quantity = models.CharField(_("measured quantity"), max_length=50)
    range_min = models.DecimalField(_("range from"), max_digits=14, decimal_places=4)
    range_max = models.DecimalField(_("range to"), max_digits=14, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=20, help_text=_("e.g. MPa"))
    accuracy_class = models.CharField(_("accuracy class"), max_length=30, blank=True)
    procedure_revision = models.ForeignKey(
        ProcedureRevision,
        verbose_name=_("procedure revision"),
        on_delete=models.PROTECT,
        related_name="scopes",
    )
    level = models.CharField(
        _("authorisation level"),
        max_length=12,
        choices=AuthorisationLevel.choices,
        default=AuthorisationLevel.PERFORM,
    )
    refresher_course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("refresher course"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_(
            "Short course that restores this scope after a procedure revision; "
            "completing it re-issues the certificate with the current revision."
        ),
    )

    panels = [
        FieldPanel("course"),
        FieldPanel("instrument_class"),
        FieldPanel("quantity"),
        FieldRowPanel(
            [FieldPanel("range_min"), FieldPanel("range_max"), FieldPanel("unit")]
        ),
        FieldPanel("accuracy_class"),
        FieldPanel("procedure_revision"),
        FieldPanel("level"),
        FieldPanel("refresher_course"),
    ]

    class Meta:
        verbose_name = _("competence scope")
        verbose_name_plural = _("competence scopes")
        ordering = ["course", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(range_min__lte=models.F("range_max")),
                name="credentials_scope_range_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.instrument_class} {self.range_min}–{self.range_max} {self.unit}"

    def clean(self) -> None:
        super().clean()
        if (
            self.range_min is not None
            and self.range_max is not None
            and self.range_min > self.range_max
        ):
            raise ValidationError(
                {
                    "range_min": RANGE_INVERTED
                    % {"low": self.range_min, "high": self.range_max}
                }
            )

    def snapshot(self) -> dict:
        revision = self.procedure_revision
        return {
            "instrument_class": self.instrument_class,
            "quantity": self.quantity,
            "range_min": f"{self.range_min.normalize():f}",
            "range_max": f"{self.range_max.normalize():f}",
            "unit": self.unit,
            "accuracy_class": self.accuracy_class,
            "procedure": revision.procedure.code,
            "procedure_title": revision.procedure.title,
            "revision": revision.revision,
            "revision_id": revision.pk,
            "scope_id": self.pk,
            "level": self.level,
            "level_label": str(AuthorisationLevel(self.level).label),
        }


class CredentialEventKind(models.TextChoices):
    ISSUED = "issued", _("Issued")
    SUSPENDED = "suspended", _("Suspended")
    REINSTATED = "reinstated", _("Reinstated")
    RENEWAL_REQUIRED = "renewal_required", _("Renewal required")
    RENEWED = "renewed", _("Renewed (superseded)")


class CredentialEvent(models.Model):
    """Every status change of a credential: who, when, why."""

    wagtail_reference_index_ignore = True

    credential = models.ForeignKey(
        Credential, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20, choices=CredentialEventKind.choices)
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
        verbose_name = _("credential event")
        verbose_name_plural = _("credential events")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.credential_id} {self.kind}"


# --- proficiency tests and interlaboratory comparisons -------------------------


class ProficiencyKind(models.TextChoices):
    PT = "pt", _("Proficiency test")
    ILC = "ilc", _("Interlaboratory comparison")


class ProficiencyResult(models.Model):
    """A failed proficiency test / interlaboratory comparison of one person in
    one scope. It suspends the person's credentials covering the scope until a
    practical assessment passes (``resolved_at``)."""

    wagtail_reference_index_ignore = True

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="proficiency_results",
    )
    company = models.ForeignKey(
        "organizations.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="proficiency_results",
    )
    scope = models.ForeignKey(
        CompetenceScope,
        verbose_name=_("competence scope"),
        on_delete=models.PROTECT,
        related_name="proficiency_results",
    )
    kind = models.CharField(_("kind"), max_length=3, choices=ProficiencyKind.choices)
    held_on = models.DateField(_("date"))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    credentials = models.ManyToManyField(
        Credential, related_name="proficiency_results", blank=True
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by_assessment = models.ForeignKey(
        "dispatch.PracticalAssessment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("failed proficiency test")
        verbose_name_plural = _("failed proficiency tests")
        ordering = ["-recorded_at", "-pk"]
        indexes = [models.Index(fields=["user", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.user} {self.get_kind_display()} {self.held_on}"
