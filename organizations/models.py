from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.search import index

from .validators import normalize_credit_code, validate_credit_code


class CompanyKind(models.TextChoices):
    LEAD = "lead", _("Lead enterprise")
    SME = "sme", _("SME")


class Role(models.TextChoices):
    LEARNER = "learner", _("Learner / technician")
    EXPERT = "expert", _("Expert")
    HR = "hr", _("HR")


# Programme staff are not members of a company; they belong to this group.
COORDINATOR_GROUP_NAME = "Coordinators"
EXPERT_GROUP_NAME = "Experts"
COORDINATOR_ROLE = "coordinator"

MEMBERSHIP_REVIEWER_NOT_EXPERT = _(
    "Only experts of a lead enterprise can review its courses."
)


class CompanyQuerySet(models.QuerySet):
    def for_user(self, user) -> CompanyQuerySet:
        """Companies ``user`` may see: their own, and their partners."""
        from .permissions import is_coordinator

        if not user.is_authenticated:
            return self.none()
        if is_coordinator(user):
            return self.all()
        own = Membership.objects.active().filter(user=user).values("company_id")
        partners_of_own = Partnership.objects.active().filter(
            Q(lead__in=own) | Q(sme__in=own)
        )
        return self.filter(
            Q(pk__in=own)
            | Q(pk__in=partners_of_own.values("lead_id"))
            | Q(pk__in=partners_of_own.values("sme_id"))
        ).distinct()

    def leads(self) -> CompanyQuerySet:
        return self.filter(kind=CompanyKind.LEAD)

    def smes(self) -> CompanyQuerySet:
        return self.filter(kind=CompanyKind.SME)


class Company(index.Indexed, models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=60, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=CompanyKind.choices)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
        help_text=_("18 characters, as on the business licence (统一社会信用代码)."),
    )
    region = models.CharField(
        _("region"),
        max_length=100,
        help_text=_("Province and city, e.g. 江苏省苏州市."),
    )
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CompanyQuerySet.as_manager()

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("name"),
                FieldPanel("short_name"),
                FieldRowPanel([FieldPanel("kind"), FieldPanel("credit_code")]),
            ],
            heading=_("Identity"),
        ),
        FieldRowPanel([FieldPanel("region"), FieldPanel("industry")]),
        FieldPanel("address"),
        FieldPanel("is_active"),
    ]
    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.SearchField("short_name"),
        index.SearchField("credit_code"),
        index.FilterField("kind"),
    ]

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.short_name or self.name

    def clean(self) -> None:
        super().clean()
        if self.credit_code:
            self.credit_code = normalize_credit_code(self.credit_code)

    @property
    def is_lead(self) -> bool:
        return self.kind == CompanyKind.LEAD


class PartnershipMode(models.TextChoices):
    SUPPLY_CHAIN = "supply_chain", _("Supply chain (产业链关联)")
    SAME_FIELD = "same_field", _("Same field (同领域)")


class PartnershipStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    ENDED = "ended", _("Ended")


class PartnershipQuerySet(models.QuerySet):
    def active(self) -> PartnershipQuerySet:
        return self.filter(status=PartnershipStatus.ACTIVE)

    def for_user(self, user) -> PartnershipQuerySet:
        from .permissions import is_coordinator

        if not user.is_authenticated:
            return self.none()
        if is_coordinator(user):
            return self.all()
        own = Membership.objects.active().filter(user=user).values("company_id")
        return self.filter(Q(lead__in=own) | Q(sme__in=own))


class Partnership(models.Model):
    lead = models.ForeignKey(
        Company,
        verbose_name=_("lead enterprise"),
        on_delete=models.PROTECT,
        related_name="partnerships_as_lead",
        limit_choices_to={"kind": CompanyKind.LEAD},
    )
    sme = models.ForeignKey(
        Company,
        verbose_name=_("SME"),
        on_delete=models.PROTECT,
        related_name="partnerships_as_sme",
        limit_choices_to={"kind": CompanyKind.SME},
    )
    mode = models.CharField(_("mode"), max_length=20, choices=PartnershipMode.choices)
    since = models.DateField(_("since"), default=timezone.localdate)
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=PartnershipStatus.choices,
        default=PartnershipStatus.ACTIVE,
    )
    notes = models.TextField(_("notes"), blank=True)

    objects = PartnershipQuerySet.as_manager()

    panels = [
        FieldRowPanel([FieldPanel("lead"), FieldPanel("sme")]),
        FieldRowPanel([FieldPanel("mode"), FieldPanel("status"), FieldPanel("since")]),
        FieldPanel("notes"),
    ]

    class Meta:
        verbose_name = _("partnership")
        verbose_name_plural = _("partnerships")
        ordering = ["lead__name", "sme__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead", "sme"], name="organizations_partnership_unique_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead} — {self.sme}"


class MembershipQuerySet(models.QuerySet):
    def active(self, on=None) -> MembershipQuerySet:
        day = on or timezone.localdate()
        return self.filter(
            Q(started_on__lte=day), Q(ended_on__isnull=True) | Q(ended_on__gt=day)
        )

    def hr_company_ids(self, user) -> MembershipQuerySet:
        """Subquery: the companies where ``user`` is currently HR."""
        return self.active().filter(user=user, role=Role.HR).values("company_id")

    def for_user(self, user) -> MembershipQuerySet:
        """Memberships ``user`` may see: their own, plus (for HR) their company's."""
        from .permissions import is_coordinator

        if not user.is_authenticated:
            return self.none()
        if is_coordinator(user):
            return self.all()
        hr_companies = Membership.objects.hr_company_ids(user)
        return self.filter(Q(user=user) | Q(company__in=hr_companies))


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    employee_number = models.CharField(_("employee number"), max_length=50, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    started_on = models.DateField(_("started on"), default=timezone.localdate)
    ended_on = models.DateField(
        _("ended on"),
        null=True,
        blank=True,
        help_text=_("Leave empty while the person works at the company."),
    )
    may_request_visits = models.BooleanField(
        _("may request expert visits"),
        default=False,
        help_text=_(
            "Lets a learner request expert visits for the company. "
            "HR may always request them."
        ),
    )
    may_review_courses = models.BooleanField(
        _("may review course changes"),
        default=False,
        help_text=_(
            "Lets an expert of a lead enterprise approve other people's changes "
            "to this enterprise's courses (never their own)."
        ),
    )

    objects = MembershipQuerySet.as_manager()

    panels = [
        FieldRowPanel([FieldPanel("user"), FieldPanel("company"), FieldPanel("role")]),
        FieldRowPanel([FieldPanel("employee_number"), FieldPanel("department")]),
        FieldRowPanel([FieldPanel("started_on"), FieldPanel("ended_on")]),
        FieldRowPanel(
            [FieldPanel("may_request_visits"), FieldPanel("may_review_courses")]
        ),
    ]

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["company__name", "user__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "company", "role"],
                condition=Q(ended_on__isnull=True),
                name="organizations_membership_one_open_per_role",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True)
                | Q(ended_on__gte=models.F("started_on")),
                name="organizations_membership_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["company", "role", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company} ({self.get_role_display()})"

    def clean(self) -> None:
        super().clean()
        if self.may_review_courses and not (
            self.role == Role.EXPERT
            and self.company_id is not None
            and self.company.is_lead
        ):
            raise ValidationError(
                {"may_review_courses": MEMBERSHIP_REVIEWER_NOT_EXPERT}, code="role"
            )

    @property
    def is_active(self) -> bool:
        today = timezone.localdate()
        return self.started_on <= today and (
            self.ended_on is None or self.ended_on > today
        )


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


def _invitation_expiry():
    return timezone.now() + timedelta(days=settings.ACADEMY_INVITATION_VALID_DAYS)


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )

    def for_user(self, user) -> InvitationQuerySet:
        from .permissions import is_coordinator

        if not user.is_authenticated:
            return self.none()
        if is_coordinator(user):
            return self.all()
        hr_companies = Membership.objects.hr_company_ids(user)
        return self.filter(company__in=hr_companies)


class Invitation(models.Model):
    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    role = models.CharField(
        _("role"), max_length=20, choices=Role.choices, default=Role.LEARNER
    )
    employee_number = models.CharField(_("employee number"), max_length=50, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    token = models.CharField(max_length=64, unique=True, default=_invitation_token)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=_invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "email", "role"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="organizations_invitation_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.company}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def status(self) -> str:
        if self.accepted_at:
            return _("accepted")
        if self.revoked_at:
            return _("revoked")
        if self.is_expired:
            return _("expired")
        return _("pending")
