"""Course catalogue pages, enrolments, lesson progress and quiz attempts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
)
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Orderable, Page, Task
from wagtail.search import index

from .blocks import LessonBodyBlock
from .forms import CoursePageForm


class Level(models.TextChoices):
    BEGINNER = "beginner", _("Beginner")
    INTERMEDIATE = "intermediate", _("Intermediate")
    ADVANCED = "advanced", _("Advanced")


class EnrollmentPolicy(models.TextChoices):
    OPEN = "open", _("Open to every registered user")
    PARTNERS = "partners", _("Partner SMEs of the publisher only")


class CourseTreePermissionMixin:
    """Second line of tenant isolation in the Wagtail admin.

    Page permissions (granted per course to the publisher's experts group by
    ``services.course_permissions_sync``) are the first line. Whatever group
    permissions say, a non-coordinator may do nothing with a course, its
    modules or lessons unless they are currently an expert of its publisher.
    """

    def course_publisher_id(self) -> int | None:
        if isinstance(self, CoursePage):
            return self.publisher_id
        return (
            CoursePage.objects.ancestor_of(self)
            .values_list("publisher_id", flat=True)
            .first()
        )

    def permissions_for_user(self, user):
        from organizations.models import Role
        from organizations.permissions import has_role_in_company, is_coordinator

        tester = super().permissions_for_user(user)
        if user.is_superuser or is_coordinator(user):
            return tester
        publisher_id = self.course_publisher_id()
        if publisher_id is None or not has_role_in_company(
            user, publisher_id, Role.EXPERT
        ):
            tester.permissions = set()
        return tester


class CourseIndexPage(Page):
    """The course catalogue at /courses/."""

    intro = RichTextField(
        _("introduction"),
        blank=True,
        features=["bold", "italic", "link"],
        help_text=_("Shown above the catalogue."),
    )

    max_count = 1
    parent_page_types = ["home.HomePage"]
    subpage_types = ["courses.TrackPage"]
    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = _("course catalogue")

    def get_template(self, request, *args, **kwargs):
        return "courses/course_index_page.html"

    def route(self, request, path_components):
        """Resolve /courses/<track>/<course>/<module>/<lesson>/ in two queries.

        Wagtail's ``Page.route`` walks one level at a time with two queries
        per level (the child, then its specific page): eight for a lesson.
        Here one query reads the candidate pages of every remaining level
        and one loads the last page's specific object; the walk and its
        404s are the same. Pages on the way that route themselves (not the
        default ``Page.route``) get the rest of the path handed over.
        """
        if len(path_components) < 2:
            return super().route(request, path_components)
        condition = Q()
        for level, slug in enumerate(path_components, start=1):
            condition |= Q(depth=self.depth + level, slug=slug)
        candidates = {
            (page.depth, page.path[: -self.steplen], page.slug): page
            for page in Page.objects.filter(path__startswith=self.path).filter(
                condition
            )
        }
        parent = self
        for level, slug in enumerate(path_components, start=1):
            page = candidates.get((self.depth + level, parent.path, slug))
            if page is None:
                raise Http404
            page._cached_parent_obj = parent
            rest = path_components[level:]
            specific_class = page.specific_class or Page
            if rest and specific_class.route is not Page.route:
                return page.specific.route(request, rest)
            parent = page
        page = parent.specific
        page._cached_parent_obj = parent._cached_parent_obj
        return page.route(request, [])

    def get_context(self, request, *args, **kwargs):
        from .selectors import catalogue_context

        context = super().get_context(request, *args, **kwargs)
        context.update(catalogue_context(index=self, request=request))
        return context


class TrackPage(Page):
    """A subject area, e.g. 压力计量 or 能源与碳计量."""

    intro = models.TextField(
        _("introduction"), blank=True, help_text=_("One paragraph about the track.")
    )

    parent_page_types = ["courses.CourseIndexPage"]
    subpage_types = ["courses.CoursePage"]
    content_panels = [*Page.content_panels, FieldPanel("intro")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    class Meta:
        verbose_name = _("track")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["courses"] = (
            CoursePage.objects.child_of(self)
            .live()
            .public()
            .select_related("publisher", "cover_image")
        )
        return context


class CoursePage(CourseTreePermissionMixin, Page):
    """One course, published by a lead enterprise."""

    title_en = models.CharField(
        _("English title"),
        max_length=255,
        blank=True,
        help_text=_("Printed on English certificates; optional."),
    )
    code = models.CharField(
        _("course code"),
        max_length=30,
        unique=True,
        help_text=_("Short unique code, e.g. PG-101. Used by HR for bulk enrolment."),
    )
    publisher = models.ForeignKey(
        "organizations.Company",
        verbose_name=_("publisher"),
        on_delete=models.PROTECT,
        related_name="courses",
        limit_choices_to={"kind": "lead"},
        help_text=_("The lead enterprise whose experts author this course."),
    )
    level = models.CharField(
        _("level"), max_length=20, choices=Level.choices, default=Level.BEGINNER
    )
    estimated_hours = models.DecimalField(
        _("estimated hours"),
        max_digits=5,
        decimal_places=1,
        default=Decimal("1.0"),
        validators=[MinValueValidator(Decimal("0.1"))],
        help_text=_("Expected study time in hours."),
    )
    intro = RichTextField(
        _("introduction"),
        blank=True,
        features=["bold", "italic", "link", "ol", "ul"],
        help_text=_("What the course is about, for the catalogue and course page."),
    )
    learning_outcomes = models.TextField(
        _("learning outcomes"),
        blank=True,
        help_text=_("One outcome per line."),
    )
    cover_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    enrollment_policy = models.CharField(
        _("who may enrol"),
        max_length=20,
        choices=EnrollmentPolicy.choices,
        default=EnrollmentPolicy.OPEN,
    )
    sequential = models.BooleanField(
        _("sequential"),
        default=False,
        help_text=_("Learners must complete lessons in order."),
    )
    min_score = models.DecimalField(
        _("minimum course score (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text=_(
            "Optional: the average of the best quiz scores must reach this. "
            "Every lesson must be completed in any case."
        ),
    )
    certificate_validity_months = models.PositiveSmallIntegerField(
        _("certificate validity (months)"),
        null=True,
        blank=True,
        help_text=_("Empty: the certificate never expires."),
    )
    certificate_scope = models.TextField(
        _("certificate scope"),
        blank=True,
        help_text=_("What the certificate certifies; printed on it."),
    )
    certificate_prints_score = models.BooleanField(
        _("print the score on the certificate"), default=False
    )
    certificate_signatory = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signatory expert"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The expert who signs the certificate."),
    )

    parent_page_types = ["courses.TrackPage"]
    subpage_types = ["courses.ModulePage"]
    base_form_class = CoursePageForm

    content_panels = [
        *Page.content_panels,
        FieldRowPanel([FieldPanel("title_en"), FieldPanel("code")]),
        FieldRowPanel(
            [
                FieldPanel("publisher"),
                FieldPanel("level"),
                FieldPanel("estimated_hours"),
            ]
        ),
        FieldPanel("cover_image"),
        FieldPanel("intro"),
        FieldPanel("learning_outcomes"),
        InlinePanel("prerequisites", label=_("Prerequisites")),
        MultiFieldPanel(
            [
                FieldPanel("enrollment_policy"),
                FieldPanel("sequential"),
                FieldPanel("min_score"),
            ],
            heading=_("Enrolment and pass rules"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("certificate_validity_months"),
                FieldPanel("certificate_scope"),
                FieldPanel("certificate_prints_score"),
                FieldPanel("certificate_signatory"),
            ],
            heading=_("Certificate"),
        ),
    ]
    search_fields = [
        *Page.search_fields,
        index.SearchField("title_en"),
        index.SearchField("code"),
        index.SearchField("intro"),
        index.SearchField("learning_outcomes"),
        index.FilterField("level"),
        index.FilterField("publisher"),
    ]

    class Meta:
        verbose_name = _("course")

    @property
    def outcomes_list(self) -> list[str]:
        return [
            line.strip() for line in self.learning_outcomes.splitlines() if line.strip()
        ]

    def get_context(self, request, *args, **kwargs):
        from .selectors import course_page_context

        context = super().get_context(request, *args, **kwargs)
        context.update(course_page_context(course=self, request=request))
        return context


class CoursePrerequisite(Orderable):
    course = ParentalKey(
        CoursePage, on_delete=models.CASCADE, related_name="prerequisites"
    )
    required_course = models.ForeignKey(
        CoursePage,
        verbose_name=_("required course"),
        on_delete=models.CASCADE,
        related_name="+",
    )

    panels = [FieldPanel("required_course")]

    class Meta(Orderable.Meta):
        verbose_name = _("prerequisite")


class ModulePage(CourseTreePermissionMixin, Page):
    """A chapter of a course grouping lessons."""

    intro = models.TextField(_("introduction"), blank=True)

    parent_page_types = ["courses.CoursePage"]
    subpage_types = ["courses.LessonPage"]
    content_panels = [*Page.content_panels, FieldPanel("intro")]

    class Meta:
        verbose_name = _("module")

    def serve(self, request, *args, **kwargs):
        from django.shortcuts import redirect

        return redirect(self.get_parent().url)


class LessonPage(CourseTreePermissionMixin, Page):
    body = StreamField(LessonBodyBlock(), blank=True, verbose_name=_("content"))
    min_active_seconds = models.PositiveIntegerField(
        _("minimum active time (seconds)"),
        default=60,
        help_text=_(
            "The learner must have the lesson open and active this long. "
            "Videos marked 'must be watched' and quizzes add their own rules."
        ),
    )

    parent_page_types = ["courses.ModulePage"]
    subpage_types: list[str] = []
    content_panels = [
        *Page.content_panels,
        FieldPanel("min_active_seconds"),
        FieldPanel("body"),
    ]
    search_fields = [*Page.search_fields, index.SearchField("body")]

    class Meta:
        verbose_name = _("lesson")

    # --- block helpers ----------------------------------------------------
    @property
    def quiz_block(self):
        for child in self.body:
            if child.block_type == "quiz":
                return child
        return None

    @property
    def has_required_video(self) -> bool:
        return any(
            child.block_type == "video"
            and child.value.get("required")
            and child.value.get("file")
            for child in self.body
        )

    def serve(self, request, *args, **kwargs):
        from .views import lesson_serve

        return lesson_serve(request, self, *args, **kwargs)


# --- Learner state ------------------------------------------------------------


class EnrollmentStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class EnrollmentQuerySet(models.QuerySet):
    def current(self) -> EnrollmentQuerySet:
        return self.exclude(status=EnrollmentStatus.WITHDRAWN)

    def for_user(self, user) -> EnrollmentQuerySet:
        """Enrolments ``user`` may see: their own; HR their company's members'
        (while members); coordinators all."""
        from organizations.models import Membership, Role
        from organizations.permissions import companies_with_role, is_coordinator

        if not getattr(user, "is_authenticated", False):
            return self.none()
        if is_coordinator(user):
            return self.all()
        hr_companies = companies_with_role(user, Role.HR)
        members = (
            Membership.objects.active()
            .filter(company_id__in=hr_companies)
            .values("user_id")
        )
        return self.filter(Q(user=user) | Q(user_id__in=members))


class Enrollment(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("learner"),
        on_delete=models.CASCADE,
        related_name="enrollments",
    )
    course = models.ForeignKey(
        CoursePage,
        verbose_name=_("course"),
        on_delete=models.PROTECT,
        related_name="enrollments",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=EnrollmentStatus.choices,
        default=EnrollmentStatus.ACTIVE,
    )
    enrolled_at = models.DateTimeField(_("enrolled at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    score = models.DecimalField(
        _("score (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("Average of the best quiz scores at completion."),
    )
    last_lesson = models.ForeignKey(
        LessonPage,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("Who enrolled the learner (themselves, or HR)."),
    )

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["-enrolled_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "course"], name="courses_enrollment_one_per_course"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="courses_enrollment_score_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="courses_enrollment_completed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.course}"

    @property
    def is_complete(self) -> bool:
        return self.status == EnrollmentStatus.COMPLETED


class EnrollmentEvent(models.Model):
    """History of an enrolment: enrolled, withdrew, re-enrolled, completed."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=20)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class LessonProgress(models.Model):
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="lesson_progress"
    )
    lesson = models.ForeignKey(
        LessonPage, on_delete=models.CASCADE, related_name="progress"
    )
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    active_seconds = models.PositiveIntegerField(default=0)
    video_position = models.FloatField(
        default=0, help_text=_("Where the learner left the video (seconds).")
    )
    video_watched_seconds = models.FloatField(default=0)
    video_duration = models.FloatField(default=0)
    quiz_best_score = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True
    )
    quiz_passed = models.BooleanField(default=False)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "lesson"], name="courses_progress_one_per_lesson"
            ),
            models.CheckConstraint(
                condition=Q(video_position__gte=0)
                & Q(video_watched_seconds__gte=0)
                & Q(video_duration__gte=0),
                name="courses_progress_video_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment} / {self.lesson_id}"

    @property
    def video_fraction(self) -> float:
        if not self.video_duration:
            return 0.0
        return min(1.0, self.video_watched_seconds / self.video_duration)


class QuizAttempt(models.Model):
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    lesson = models.ForeignKey(
        LessonPage, on_delete=models.CASCADE, related_name="quiz_attempts"
    )
    number = models.PositiveSmallIntegerField()
    served_questions = models.JSONField(
        default=list, help_text=_("Block ids of the questions drawn for this attempt.")
    )
    answers = models.JSONField(default=dict, blank=True)
    results = models.JSONField(
        default=dict, blank=True, help_text=_("Question id → correct (bool).")
    )
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    pass_mark = models.PositiveSmallIntegerField(default=60)
    passed = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("quiz attempt")
        verbose_name_plural = _("quiz attempts")
        ordering = ["enrollment", "lesson", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "lesson", "number"],
                name="courses_attempt_unique_number",
            ),
            models.UniqueConstraint(
                fields=["enrollment", "lesson"],
                condition=Q(submitted_at__isnull=True),
                name="courses_attempt_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment} / {self.lesson_id} #{self.number}"

    @property
    def is_open(self) -> bool:
        return self.submitted_at is None


class CourseReviewTask(Task):
    """Workflow task "coordinator or the publisher's reviewer approves".

    A user may moderate a page on this task when they are a coordinator or an
    active reviewer (``Membership.may_review_courses``) of the lead enterprise
    that publishes the page's course. Nobody but a superuser approves or
    rejects a change they submitted or wrote themselves (four eyes). The
    rules live in ``courses.workflow``; ``on_action`` checks them again
    against the task state's own page, so a crafted approve URL that pairs
    one page with another page's task state is refused.
    """

    admin_form_fields = Task.admin_form_fields

    class Meta:
        verbose_name = _("course review task")
        verbose_name_plural = _("course review tasks")

    def start(self, workflow_state, user=None):
        from . import workflow

        workflow.unlock_for_review(workflow_state)
        return super().start(workflow_state, user=user)

    def user_can_access_editor(self, obj, user):
        from . import workflow

        return workflow.can_moderate_page(user, obj)

    def locked_for_user(self, obj, user):
        from . import workflow

        return not workflow.can_moderate_page(user, obj)

    def user_can_lock(self, obj, user):
        from . import workflow

        return workflow.can_moderate_page(user, obj)

    def user_can_unlock(self, obj, user):
        return False

    def get_actions(self, obj, user):
        from . import workflow

        return workflow.task_actions(self, obj, user)

    def on_action(self, task_state, user, action_name, **kwargs):
        from . import workflow

        workflow.check_action(self, task_state, user, action_name)
        return super().on_action(task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user, **kwargs):
        from . import workflow

        return workflow.task_states_user_can_moderate(self, user)

    @classmethod
    def get_description(cls):
        return _(
            "Coordinators, or reviewers named by the course's lead enterprise, "
            "approve; nobody approves their own change"
        )
