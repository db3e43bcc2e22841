"""Expert dispatch: topics, experts, visit requests, visits, attendance, reports.

Editorial content (topics, expert profile pages, the public schedule page)
lives in Wagtail; the workflow rows are plain models whose state changes go
through ``dispatch.services``. Times are stored in UTC and shown in
Asia/Shanghai.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import time

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey, ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
)
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.models import Orderable, Page
from wagtail.search import index

from organizations.models import Company, CompanyKind


# --- topics ----------------------------------------------------------------
class TopicCategory(models.TextChoices):
    LENGTH = "length", _("Length")
    PRESSURE = "pressure", _("Pressure")
    TEMPERATURE = "temperature", _("Temperature")
    ENERGY = "energy", _("Energy and carbon")
    MASS = "mass", _("Mass and force")
    ELECTRICAL = "electrical", _("Electrical")
    MANAGEMENT = "management", _("Measurement management")
    OTHER = "other", _("Other")


class MetrologyTopic(index.Indexed, ClusterableModel):
    code = models.CharField(
        _("code"),
        max_length=30,
        unique=True,
        help_text=_("Short identifier, e.g. PRESS-CAL."),
    )
    name = models.CharField(_("name (Chinese)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=160, blank=True)
    category = models.CharField(
        _("category"),
        max_length=20,
        choices=TopicCategory.choices,
        default=TopicCategory.OTHER,
    )
    description = models.TextField(_("description"), blank=True)
    typical_duration_minutes = models.PositiveSmallIntegerField(
        _("typical duration (minutes)"),
        default=240,
        help_text=_("Proposed length of a visit on this topic."),
    )
    expects_practical_assessment = models.BooleanField(
        _("practical assessment expected"),
        default=False,
        help_text=_(
            "The expert records a pass/fail result with measured values for each "
            "participant."
        ),
    )
    related_courses = ParentalManyToManyField(
        "courses.CoursePage",
        verbose_name=_("related courses"),
        blank=True,
        related_name="+",
        help_text=_("Courses that prepare for or follow up on this topic."),
    )

    panels = [
        FieldRowPanel([FieldPanel("code"), FieldPanel("category")]),
        FieldRowPanel([FieldPanel("name"), FieldPanel("name_en")]),
        FieldPanel("description"),
        FieldRowPanel(
            [
                FieldPanel("typical_duration_minutes"),
                FieldPanel("expects_practical_assessment"),
            ]
        ),
        FieldPanel("related_courses"),
    ]
    search_fields = [
        index.SearchField("name"),
        index.SearchField("name_en"),
        index.SearchField("code"),
        index.AutocompleteField("name"),
        index.FilterField("category"),
    ]

    class Meta:
        verbose_name = _("metrology topic")
        verbose_name_plural = _("metrology topics")
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return self.name


class RequirementKind(models.TextChoices):
    ATTENDED = "attended", _("Attended a visit on the topic")
    ASSESSMENT_PASSED = "assessment_passed", _("Passed a practical assessment")


class CourseVisitRequirement(models.Model):
    """A course's pass rule that needs an on-site visit (read by courses)."""

    course = models.ForeignKey(
        "courses.CoursePage",
        verbose_name=_("course"),
        on_delete=models.CASCADE,
        related_name="visit_requirements",
    )
    topic = models.ForeignKey(
        MetrologyTopic,
        verbose_name=_("topic"),
        on_delete=models.PROTECT,
        related_name="course_requirements",
    )
    kind = models.CharField(
        _("requirement"),
        max_length=20,
        choices=RequirementKind.choices,
        default=RequirementKind.ATTENDED,
    )

    panels = [FieldPanel("course"), FieldPanel("topic"), FieldPanel("kind")]

    class Meta:
        verbose_name = _("course visit requirement")
        verbose_name_plural = _("course visit requirements")
        constraints = [
            models.UniqueConstraint(
                fields=["course", "topic", "kind"],
                name="dispatch_course_requirement_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.course} — {self.topic} ({self.get_kind_display()})"


# --- experts -----------------------------------------------------------------
class ExpertSchedule(ClusterableModel):
    """When and how often an expert can be dispatched, and what they cover."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("expert"),
        on_delete=models.CASCADE,
        related_name="expert_schedule",
    )
    topics = ParentalManyToManyField(
        MetrologyTopic,
        verbose_name=_("topics covered"),
        blank=True,
        related_name="expert_schedules",
    )
    service_regions = models.CharField(
        _("service regions"),
        max_length=300,
        blank=True,
        help_text=_("Comma-separated provinces or cities, e.g. 江苏省苏州市, 上海市."),
    )
    buffer_before_minutes = models.PositiveSmallIntegerField(
        _("buffer before a visit (minutes)"), default=30
    )
    buffer_after_minutes = models.PositiveSmallIntegerField(
        _("buffer after a visit (minutes)"), default=30
    )
    travel_minutes = models.PositiveSmallIntegerField(
        _("travel time between different companies (minutes)"),
        default=60,
        help_text=_(
            "Extra gap required between on-site visits at two different companies."
        ),
    )
    max_visits_per_month = models.PositiveSmallIntegerField(
        _("maximum visits per month"), null=True, blank=True
    )
    max_days_per_month = models.PositiveSmallIntegerField(
        _("maximum visit days per month"), null=True, blank=True
    )

    panels = [
        FieldPanel("user"),
        FieldPanel("topics"),
        FieldPanel("service_regions"),
        FieldRowPanel(
            [
                FieldPanel("buffer_before_minutes"),
                FieldPanel("buffer_after_minutes"),
                FieldPanel("travel_minutes"),
            ]
        ),
        FieldRowPanel(
            [FieldPanel("max_visits_per_month"), FieldPanel("max_days_per_month")]
        ),
        InlinePanel("working_hours", heading=_("Weekly working hours")),
    ]

    class Meta:
        verbose_name = _("expert schedule")
        verbose_name_plural = _("expert schedules")

    def __str__(self) -> str:
        return str(self.user)


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


DEFAULT_WORKING_HOURS = [(day, time(8, 30), time(17, 30)) for day in range(5)]


class WorkingHours(Orderable):
    schedule = ParentalKey(
        ExpertSchedule, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start_time = models.TimeField(_("from"))
    end_time = models.TimeField(_("until"))

    panels = [
        FieldRowPanel(
            [FieldPanel("weekday"), FieldPanel("start_time"), FieldPanel("end_time")]
        )
    ]

    class Meta(Orderable.Meta):
        verbose_name = _("working hours")
        verbose_name_plural = _("working hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=models.F("start_time")),
                name="dispatch_working_hours_end_after_start",
            )
        ]


class ExpertBusyBlock(models.Model):
    """Time an expert is not available (leave, other duties)."""

    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("expert"),
        on_delete=models.CASCADE,
        related_name="busy_blocks",
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("busy block")
        verbose_name_plural = _("busy blocks")
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="dispatch_busy_block_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.expert}: {self.reason or _('busy')}"


class TimeHold(models.Model):
    """The expert's busy time range, buffers included.

    One row per visit that holds time (tentative or confirmed) and per busy
    block. On PostgreSQL an exclusion constraint (added in migration 0002)
    forbids two overlapping holds of the same expert.
    """

    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_holds"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    visit = models.OneToOneField(
        "Visit",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="time_hold",
    )
    busy_block = models.OneToOneField(
        ExpertBusyBlock,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="time_hold",
    )

    class Meta:
        indexes = [models.Index(fields=["expert", "starts_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="dispatch_time_hold_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(visit__isnull=False, busy_block__isnull=True)
                | Q(visit__isnull=True, busy_block__isnull=False),
                name="dispatch_time_hold_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.expert}: {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class ExpertProfilePage(Page):
    """Public profile of an expert (under the dispatch schedule page)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("expert account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Links the profile to the expert's visits and schedule."),
    )
    employer = models.ForeignKey(
        Company,
        verbose_name=_("employer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        limit_choices_to={"kind": CompanyKind.LEAD},
    )
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    photo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("photo"),
    )
    bio = RichTextField(
        _("biography"),
        blank=True,
        features=["bold", "italic", "link", "ol", "ul"],
        help_text=_("Career, fields of work, notable projects."),
    )
    specialities = models.TextField(
        _("specialities"),
        blank=True,
        help_text=_("Free text in addition to the topics on the expert's schedule."),
    )
    service_regions = models.CharField(
        _("service regions"),
        max_length=300,
        blank=True,
        help_text=_("Where the expert travels, e.g. 江苏省, 上海市."),
    )

    parent_page_types = ["dispatch.DispatchSchedulePage"]
    subpage_types: list[str] = []

    content_panels = [
        *Page.content_panels,
        FieldRowPanel([FieldPanel("user"), FieldPanel("employer")]),
        FieldPanel("job_title"),
        FieldPanel("photo"),
        FieldPanel("bio"),
        FieldPanel("specialities"),
        FieldPanel("service_regions"),
        InlinePanel("qualifications", heading=_("Qualifications")),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("bio"),
        index.SearchField("specialities"),
    ]

    class Meta:
        verbose_name = _("expert profile page")

    def get_context(self, request, *args, **kwargs):
        from .selectors import visit_list_public

        context = super().get_context(request, *args, **kwargs)
        schedule = (
            ExpertSchedule.objects.filter(user=self.user_id)
            .prefetch_related("topics")
            .first()
            if self.user_id
            else None
        )
        context["topics"] = list(schedule.topics.all()) if schedule else []
        context["upcoming_visits"] = (
            list(visit_list_public(expert_id=self.user_id)[:10]) if self.user_id else []
        )
        return context


class QualificationGrade(models.TextChoices):
    REGISTERED_1 = "registered_1", _("Registered metrologist, grade 1 (一级注册计量师)")
    REGISTERED_2 = "registered_2", _("Registered metrologist, grade 2 (二级注册计量师)")
    VERIFIER = "verifier", _("Verification personnel (计量检定员)")
    AUDITOR = "auditor", _("Measurement management system auditor")
    OTHER = "other", _("Other")


class ExpertQualification(Orderable):
    page = ParentalKey(
        ExpertProfilePage, on_delete=models.CASCADE, related_name="qualifications"
    )
    grade = models.CharField(
        _("qualification"), max_length=20, choices=QualificationGrade.choices
    )
    certificate_number = models.CharField(
        _("certificate number"), max_length=60, blank=True
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    panels = [
        FieldRowPanel([FieldPanel("grade"), FieldPanel("certificate_number")]),
        FieldRowPanel([FieldPanel("valid_until"), FieldPanel("note")]),
    ]

    @property
    def is_expired(self) -> bool:
        return bool(self.valid_until and self.valid_until < timezone.localdate())


class DispatchSchedulePage(RoutablePageMixin, Page):
    """The public schedule of upcoming visits, with an iCalendar feed."""

    intro = RichTextField(
        _("introduction"),
        blank=True,
        features=["bold", "italic", "link", "ol", "ul"],
        help_text=_("Shown above the list of visits."),
    )

    max_count = 1
    parent_page_types = ["home.HomePage"]
    subpage_types = ["dispatch.ExpertProfilePage"]
    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = _("dispatch schedule page")

    @path("")
    def schedule(self, request):
        from .selectors import visit_list_public

        region = request.GET.get("region", "").strip()
        topic = request.GET.get("topic", "").strip()
        expert = request.GET.get("expert", "").strip()
        visits = visit_list_public(
            region=region,
            topic_code=topic,
            expert_id=int(expert) if expert.isdigit() else None,
        )
        experts = self.get_children().live().specific().type(ExpertProfilePage)
        return self.render(
            request,
            context_overrides={
                "visits": visits[:200],
                "topics": MetrologyTopic.objects.all(),
                "experts": experts,
                "regions": sorted(
                    set(
                        Company.objects.smes()
                        .filter(hosted_visits__published=True)
                        .values_list("region", flat=True)
                    )
                ),
                "selected": {"region": region, "topic": topic, "expert": expert},
            },
        )

    @path("topic/<str:code>/", name="topic")
    def topic(self, request, code: str):
        """Shareable per-topic schedule, e.g. /visits/topic/PRESS-CAL/."""
        if not MetrologyTopic.objects.filter(code=code).exists():
            from django.http import Http404

            raise Http404
        request.GET = request.GET.copy()
        request.GET["topic"] = code
        return self.schedule(request)


# --- requests ------------------------------------------------------------------
class VisitMode(models.TextChoices):
    ON_SITE = "on_site", _("On site")
    REMOTE = "remote", _("Remote")


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    NEEDS_INFO = "needs_info", _("Needs more information")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


OPEN_REQUEST_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.NEEDS_INFO)


class VisitRequestQuerySet(models.QuerySet):
    def open(self) -> VisitRequestQuerySet:
        return self.filter(status__in=OPEN_REQUEST_STATUSES)

    def for_user(self, user) -> VisitRequestQuerySet:
        from organizations.models import Membership, Partnership
        from organizations.permissions import is_coordinator

        if not user.is_authenticated:
            return self.none()
        if is_coordinator(user):
            return self.all()
        hr_companies = Membership.objects.hr_company_ids(user)
        partner_smes = (
            Partnership.objects.active().filter(lead__in=hr_companies).values("sme_id")
        )
        return self.filter(
            Q(company__in=hr_companies)
            | Q(company__in=partner_smes)
            | Q(requested_by=user)
        )


class VisitRequest(models.Model):
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="visit_requests",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="visit_requests",
    )
    topic = models.ForeignKey(
        MetrologyTopic,
        verbose_name=_("topic"),
        on_delete=models.PROTECT,
        related_name="visit_requests",
    )
    problem = models.TextField(_("problem statement"))
    instruments = models.TextField(_("instruments or quantities concerned"), blank=True)
    expected_participants = models.PositiveSmallIntegerField(
        _("expected participants"), default=5
    )
    site_address = models.CharField(_("site address"), max_length=300, blank=True)
    mode = models.CharField(
        _("mode"), max_length=10, choices=VisitMode.choices, default=VisitMode.ON_SITE
    )
    any_date = models.BooleanField(_("any date"), default=False)
    preferred_windows = models.JSONField(
        _("preferred date windows"),
        default=list,
        blank=True,
        help_text=_('List of {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}.'),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=RequestStatus.choices,
        default=RequestStatus.SUBMITTED,
    )
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit request")
        verbose_name_plural = _("visit requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.company} — {self.topic}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REQUEST_STATUSES


class VisitRequestEvent(models.Model):
    """One step in a request's life: who, when, what, and the message."""

    request = models.ForeignKey(
        VisitRequest, on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, choices=RequestStatus.choices)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


# --- stationing plans ----------------------------------------------------------
class StationingPlan(models.Model):
    """Periodic stationing (定期派驻): a recurrence rule that creates visits."""

    title = models.CharField(_("title"), max_length=200)
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("expert"),
        on_delete=models.PROTECT,
        related_name="stationing_plans",
    )
    host_company = models.ForeignKey(
        Company,
        verbose_name=_("host company"),
        on_delete=models.PROTECT,
        related_name="stationing_plans",
        limit_choices_to={"kind": CompanyKind.SME},
    )
    topic = models.ForeignKey(
        MetrologyTopic, verbose_name=_("topic"), on_delete=models.PROTECT
    )
    first_start = models.DateTimeField(
        _("first visit starts"),
        help_text=_("Date and time of the first occurrence (Asia/Shanghai)."),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=240
    )
    rrule = models.CharField(
        _("recurrence rule"),
        max_length=300,
        help_text=_(
            "RFC 5545 RRULE, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6. "
            "It must end (COUNT or UNTIL)."
        ),
    )
    exception_dates = models.JSONField(
        _("exception dates"),
        default=list,
        blank=True,
        help_text=_('Dates to skip, e.g. ["2026-10-06"].'),
    )
    location = models.CharField(_("location"), max_length=300, blank=True)
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=10)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stationing plan")
        verbose_name_plural = _("stationing plans")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from .services import plan_occurrences

        super().clean()
        if self.rrule and self.first_start:
            try:
                plan_occurrences(
                    rule=self.rrule,
                    first_start=self.first_start,
                    exceptions=self.exception_dates,
                )
            except ValidationError as error:
                raise ValidationError({"rrule": error.messages}) from error


# --- visits ------------------------------------------------------------------------
class VisitStatus(models.TextChoices):
    UNSTAFFED = "unstaffed", _("Unstaffed")
    TENTATIVE = "tentative", _("Tentative")
    CONFIRMED = "confirmed", _("Confirmed")
    RELEASED = "released", _("Declined by the expert")
    CANCELLED = "cancelled", _("Cancelled")
    COMPLETED = "completed", _("Completed")


HOLDING_STATUSES = (VisitStatus.TENTATIVE, VisitStatus.CONFIRMED)


class VisitQuerySet(models.QuerySet):
    def for_user(self, user) -> VisitQuerySet:
        """Visits ``user`` may see in their workspace (not the public list)."""
        from organizations.models import Membership, Partnership, Role
        from organizations.permissions import is_coordinator

        if not user.is_authenticated:
            return self.none()
        if is_coordinator(user):
            return self.all()
        own = Membership.objects.active().filter(user=user)
        hr_companies = own.filter(role=Role.HR).values("company_id")
        partner_smes = (
            Partnership.objects.active().filter(lead__in=hr_companies).values("sme_id")
        )
        return self.filter(
            Q(expert=user)
            | Q(host_company__in=hr_companies)
            | Q(lead_company__in=hr_companies)
            | Q(host_company__in=partner_smes)
            | Q(registrations__user=user)
        ).distinct()


def _uid() -> str:
    return f"{uuid.uuid4()}@academy"


def _qr_nonce() -> str:
    return secrets.token_urlsafe(12)


class Visit(models.Model):
    title = models.CharField(_("title"), max_length=200)
    topic = models.ForeignKey(
        MetrologyTopic,
        verbose_name=_("topic"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    request = models.ForeignKey(
        VisitRequest,
        verbose_name=_("request"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    plan = models.ForeignKey(
        StationingPlan,
        verbose_name=_("stationing plan"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )
    occurrence_start = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The plan occurrence this visit was generated for."),
    )
    edited_by_hand = models.BooleanField(default=False)
    host_company = models.ForeignKey(
        Company,
        verbose_name=_("host company"),
        on_delete=models.PROTECT,
        related_name="hosted_visits",
    )
    lead_company = models.ForeignKey(
        Company,
        verbose_name=_("lead enterprise"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staffed_visits",
    )
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("expert"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="visits_as_expert",
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    mode = models.CharField(
        _("mode"), max_length=10, choices=VisitMode.choices, default=VisitMode.ON_SITE
    )
    location = models.CharField(_("location"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    capacity = models.PositiveSmallIntegerField(_("capacity"), default=10)
    seats_taken = models.PositiveSmallIntegerField(default=0)
    registration_cutoff_hours = models.PositiveSmallIntegerField(
        _("registration and cancellation cut-off (hours before start)"), default=24
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=VisitStatus.choices,
        default=VisitStatus.TENTATIVE,
    )
    published = models.BooleanField(
        _("show on the public schedule"),
        default=False,
        help_text=_("Confirmed visits that are published appear on /visits/."),
    )
    uid = models.CharField(max_length=100, unique=True, default=_uid, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    qr_nonce = models.CharField(max_length=32, default=_qr_nonce, editable=False)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_7d_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_1d_sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["expert", "starts_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="dispatch_visit_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(seats_taken__lte=models.F("capacity")),
                name="dispatch_visit_seats_within_capacity",
            ),
            models.UniqueConstraint(
                fields=["plan", "occurrence_start"],
                condition=Q(plan__isnull=False),
                name="dispatch_visit_one_per_occurrence",
            ),
        ]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.title} ({local:%Y-%m-%d %H:%M})"

    @property
    def holds_time(self) -> bool:
        return self.status in HOLDING_STATUSES and self.expert_id is not None

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def registration_cutoff(self):
        from datetime import timedelta

        return self.starts_at - timedelta(hours=self.registration_cutoff_hours)


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class Registration(models.Model):
    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="registrations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("participant"),
        on_delete=models.PROTECT,
        related_name="visit_registrations",
    )
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="visit_registrations"
    )
    status = models.CharField(
        _("status"), max_length=20, choices=RegistrationStatus.choices
    )
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    waitlisted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    attended = models.BooleanField(_("attended"), default=False)
    attended_at = models.DateTimeField(null=True, blank=True)
    checkin_method = models.CharField(max_length=10, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["visit", "status", "waitlisted_at", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "user"], name="dispatch_registration_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.visit}"


class VisitReport(models.Model):
    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="report")
    summary = models.TextField(_("summary"))
    findings = models.TextField(_("findings"), blank=True)
    recommendations = models.TextField(_("recommendations"), blank=True)
    hours_spent = models.DecimalField(_("hours spent"), max_digits=5, decimal_places=1)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    filed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("visit report")
        verbose_name_plural = _("visit reports")

    def __str__(self) -> str:
        return str(self.visit)


class FollowUpAction(models.Model):
    report = models.ForeignKey(
        VisitReport, on_delete=models.CASCADE, related_name="actions"
    )
    description = models.CharField(_("action"), max_length=300)
    owner = models.CharField(_("owner"), max_length=100)
    due_date = models.DateField(_("due date"))
    done = models.BooleanField(_("done"), default=False)

    class Meta:
        ordering = ["due_date", "pk"]

    def __str__(self) -> str:
        return self.description


def _attachment_path(instance, filename: str) -> str:
    return f"dispatch/reports/{instance.report.visit_id}/{filename}"


def _private_storage():
    from django.core.files.storage import storages

    return storages["private"]


class ReportAttachment(models.Model):
    report = models.ForeignKey(
        VisitReport, on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(upload_to=_attachment_path, storage=_private_storage)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    @property
    def filename(self) -> str:
        return self.file.name.rsplit("/", 1)[-1]

    def __str__(self) -> str:
        return self.filename


class VisitRating(models.Model):
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="ratings")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    score = models.PositiveSmallIntegerField(_("rating (1–5)"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "company"], name="dispatch_rating_once_per_company"
            ),
            models.CheckConstraint(
                condition=Q(score__gte=1, score__lte=5),
                name="dispatch_rating_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visit}: {self.score}"


class PracticalAssessment(models.Model):
    visit = models.ForeignKey(
        Visit, on_delete=models.CASCADE, related_name="assessments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="practical_assessments",
    )
    passed = models.BooleanField(_("passed"))
    measured_values = models.JSONField(
        _("measured values"),
        default=list,
        blank=True,
        help_text=_('List of {"quantity", "value", "unit"}.'),
    )
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "user"], name="dispatch_assessment_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.visit}: {self.passed}"


# --- calendar feeds --------------------------------------------------------------
class FeedKind(models.TextChoices):
    EXPERT = "expert", _("Expert calendar")
    COMPANY = "company", _("Company calendar")


def _feed_token() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeedToken(models.Model):
    kind = models.CharField(max_length=10, choices=FeedKind.choices)
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_feed_tokens",
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="calendar_feed_tokens",
    )
    token = models.CharField(max_length=64, unique=True, default=_feed_token)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="expert", expert__isnull=False, company__isnull=True)
                | Q(kind="company", company__isnull=False, expert__isnull=True),
                name="dispatch_feed_token_owner",
            )
        ]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.expert or self.company}"
