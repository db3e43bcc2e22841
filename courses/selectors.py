"""Reads across courses, enrolments and progress.

Every function here answers with a fixed number of queries, whatever the
number of courses, modules, lessons or enrolments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from .models import (
    CourseIndexPage,
    CoursePage,
    Enrollment,
    EnrollmentStatus,
    LessonPage,
    LessonProgress,
    Level,
    ModulePage,
    QuizAttempt,
    TrackPage,
)
from .requirements import external_requirements

CATALOGUE_PAGE_SIZE = 24


def enrollment_active_seconds(enrollment: Enrollment) -> int:
    """Total active seconds the learner spent in the course's lessons."""
    total = LessonProgress.objects.filter(enrollment=enrollment).aggregate(
        total=Sum("active_seconds")
    )["total"]
    return int(total or 0)


# --- catalogue ------------------------------------------------------------------


def course_search_q(query: str) -> Q:
    """Substring search that works for Chinese on every database engine.

    Full-text backends do not segment Chinese (``压力`` is not a token of
    ``压力表检定与校准``), so every whitespace-separated term must occur as a
    substring of one of the course's text fields.
    """
    condition = Q()
    for term in query.split()[:8]:
        condition &= (
            Q(title__icontains=term)
            | Q(title_en__icontains=term)
            | Q(code__icontains=term)
            | Q(intro__icontains=term)
            | Q(learning_outcomes__icontains=term)
            | Q(search_description__icontains=term)
            | Q(publisher__name__icontains=term)
            | Q(publisher__short_name__icontains=term)
        )
    return condition


def course_list_for_catalogue(
    *,
    index: CourseIndexPage | None = None,
    query: str = "",
    track: TrackPage | None = None,
    level: str = "",
    publisher_id: int | None = None,
) -> QuerySet[CoursePage]:
    courses = (
        CoursePage.objects.live()
        .public()
        .select_related("publisher", "cover_image")
        .order_by("path")
    )
    if index is not None:
        courses = courses.descendant_of(index)
    if track is not None:
        courses = courses.child_of(track)
    if level:
        courses = courses.filter(level=level)
    if publisher_id:
        courses = courses.filter(publisher_id=publisher_id)
    if query.strip():
        courses = courses.filter(course_search_q(query))
    return courses


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def catalogue_context(*, index: CourseIndexPage, request) -> dict:
    tracks = list(TrackPage.objects.child_of(index).live().public().order_by("path"))
    track_id = _int_or_none(request.GET.get("track"))
    track = next((t for t in tracks if t.pk == track_id), None)
    level = request.GET.get("level", "")
    if level not in Level.values:
        level = ""
    publisher_id = _int_or_none(request.GET.get("publisher"))
    query = request.GET.get("q", "").strip()[:100]
    courses = list(
        course_list_for_catalogue(
            index=index,
            query=query,
            track=track,
            level=level,
            publisher_id=publisher_id,
        )[:CATALOGUE_PAGE_SIZE]
    )
    track_by_path = {t.path: t for t in tracks}
    for course in courses:
        course.track = track_by_path.get(course.path[: -CoursePage.steplen])
    publishers = {}
    for course in (
        CoursePage.objects.live().descendant_of(index).select_related("publisher")
    ):
        publishers[course.publisher_id] = course.publisher
    enrolled = {}
    if request.user.is_authenticated:
        enrolled = dict(
            Enrollment.objects.current()
            .filter(user=request.user, course__in=[c.pk for c in courses])
            .values_list("course_id", "status")
        )
    for course in courses:
        course.enrollment_status = enrolled.get(course.pk)
    return {
        "courses": courses,
        "tracks": tracks,
        "levels": Level.choices,
        "publishers": sorted(publishers.values(), key=lambda c: c.name),
        "selected_track": track,
        "selected_level": level,
        "selected_publisher": publisher_id,
        "query": query,
        "is_filtered": bool(query or track or level or publisher_id),
    }


# --- one course -----------------------------------------------------------------


@dataclass
class OutlineLesson:
    """What an outline shows of a lesson, read without loading the page."""

    pk: int
    title: str
    path: str
    url: str | None = None


@dataclass
class OutlineModule:
    pk: int
    title: str
    intro: str
    path: str


@dataclass
class LessonRow:
    lesson: OutlineLesson
    completed: bool = False
    started: bool = False
    unlocked: bool = True
    active_seconds: int = 0
    current: bool = False

    @property
    def css_class(self) -> str:
        """``is-current``, ``is-done`` / ``is-locked`` for the outline's ``<li>``."""
        classes = ["is-current"] if self.current else []
        if self.completed:
            classes.append("is-done")
        elif not self.unlocked:
            classes.append("is-locked")
        return " ".join(classes)


@dataclass
class ModuleRow:
    module: OutlineModule
    lessons: list[LessonRow] = field(default_factory=list)


@dataclass
class CourseOutline:
    modules: list[ModuleRow]
    lessons: list[LessonRow]
    completed_count: int
    total_count: int
    active_seconds: int

    @property
    def percent(self) -> int:
        if not self.total_count:
            return 0
        return round(100 * self.completed_count / self.total_count)

    def next_lesson(self) -> LessonRow | None:
        for row in self.lessons:
            if not row.completed and row.unlocked:
                return row
        return None

    def mark_current(self, lesson_pk: int) -> tuple[LessonRow | None, LessonRow | None]:
        """Mark the row of ``lesson_pk`` as current; answer the rows before
        and after it (``None`` at either end or when it is not listed)."""
        for i, row in enumerate(self.lessons):
            if row.lesson.pk == lesson_pk:
                row.current = True
                before = self.lessons[i - 1] if i > 0 else None
                after = self.lessons[i + 1] if i + 1 < len(self.lessons) else None
                return before, after
        return None, None


# Characters Django's reverse() leaves unquoted in a URL path.
_PATH_SAFE = "!$&'()*+,;=/~:@"


def _lesson_urls(course: CoursePage, request, rows: list[tuple]) -> list[str | None]:
    """URLs of the course's lessons from their ``url_path``: the course's URL
    once (Wagtail's site-root lookup, cached on ``request``) plus each
    lesson's path below the course, quoted as ``reverse()`` quotes it. Falls
    back to Wagtail per lesson when the course URL does not end in its own
    path (e.g. ``WAGTAIL_APPEND_SLASH = False``)."""
    course_url = course.get_url(request=request)
    if course_url and course_url.endswith("/") and course.url_path.endswith("/"):
        own = len(course.url_path)
        return [
            course_url + quote(url_path[own:], safe=_PATH_SAFE) for *_, url_path in rows
        ]
    return [
        LessonPage(pk=pk, path=path, url_path=url_path).get_url(request=request)
        for pk, _title, path, url_path in rows
    ]


def course_outline(
    course: CoursePage, enrollment: Enrollment | None = None, *, request=None
) -> CourseOutline:
    """Modules and lessons of ``course`` with the learner's progress and each
    lesson's URL.

    Three queries whatever the size of the course; lessons are read as
    values (no page objects), their URLs built from one site-root lookup.
    """
    modules = (
        ModulePage.objects.child_of(course)
        .live()
        .order_by("path")
        .values_list("pk", "title", "intro", "path")
    )
    module_by_path = {
        path: ModuleRow(
            module=OutlineModule(pk=pk, title=title, intro=intro, path=path)
        )
        for pk, title, intro, path in modules
    }
    lessons = list(
        LessonPage.objects.live()
        .filter(path__startswith=course.path, depth=course.depth + 2)
        .order_by("path")
        .values_list("pk", "title", "path", "url_path")
    )
    progress = {}
    if enrollment is not None:
        rows = LessonProgress.objects.filter(enrollment=enrollment).values_list(
            "lesson_id", "completed_at", "active_seconds"
        )
        progress = {lesson_id: (done, seconds) for lesson_id, done, seconds in rows}
    steplen = CoursePage.steplen
    module_length = (course.depth + 1) * steplen
    lessons = [row for row in lessons if row[2][:module_length] in module_by_path]
    urls = _lesson_urls(course, request, lessons) if lessons else []
    rows: list[LessonRow] = []
    gated = bool(
        enrollment is not None
        and course.sequential
        and enrollment.status != EnrollmentStatus.COMPLETED
    )
    previous_done = True
    for (pk, title, path, _url_path), url in zip(lessons, urls, strict=True):
        p = progress.get(pk)
        row = LessonRow(
            lesson=OutlineLesson(pk=pk, title=title, path=path, url=url),
            completed=bool(p and p[0]),
            started=p is not None,
            active_seconds=p[1] if p else 0,
            unlocked=(previous_done or not gated),
        )
        previous_done = previous_done and row.completed
        module_by_path[path[:module_length]].lessons.append(row)
        rows.append(row)
    return CourseOutline(
        modules=list(module_by_path.values()),
        lessons=rows,
        completed_count=sum(1 for r in rows if r.completed),
        total_count=len(rows),
        active_seconds=sum(seconds for _done, seconds in progress.values()),
    )


def course_page_context(*, course: CoursePage, request) -> dict:
    from .permissions import can_edit_course, enrol_refusal

    user = request.user
    enrollment = None
    if user.is_authenticated:
        enrollment = (
            Enrollment.objects.filter(user=user, course=course)
            .select_related("last_lesson")
            .first()
        )
    current = (
        enrollment
        if enrollment and enrollment.status != EnrollmentStatus.WITHDRAWN
        else None
    )
    outline = course_outline(course, current, request=request)
    # The breadcrumb; routing has cached the parents on the page.
    track = course.get_parent()
    catalogue = track.get_parent() if track is not None else None
    context = {
        "outline": outline,
        "catalogue": catalogue,
        "track": track,
        "enrollment": enrollment,
        "current_enrollment": current,
        "prerequisites": [
            p.required_course
            for p in course.prerequisites.select_related("required_course")
        ],
        "enrol_refusal": None,
        "can_edit": can_edit_course(user, course),
        "external_requirements": [],
    }
    if current is None:
        context["enrol_refusal"] = (
            enrol_refusal(user, course) if user.is_authenticated else None
        )
    else:
        context["external_requirements"] = external_requirements(current)
        context["resume_lesson"] = (
            current.last_lesson
            if current.last_lesson
            and any(r.lesson.pk == current.last_lesson_id for r in outline.lessons)
            else None
        )
    return context


# --- my learning ------------------------------------------------------------------


def _lessons_total_subquery():
    return Subquery(
        LessonPage.objects.filter(
            live=True,
            path__startswith=OuterRef("course__path"),
            depth=OuterRef("course__depth") + 2,
        )
        .order_by()
        .annotate(total=Func(F("pk"), function="COUNT"))
        .values("total")[:1],
        output_field=IntegerField(),
    )


def enrollments_with_progress(queryset: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """Annotate ``completed_lessons``, ``total_lessons``, ``progress_percent``
    and ``active_seconds`` in the same query (for HR reports and dashboards)."""
    completed = Subquery(
        LessonProgress.objects.filter(
            enrollment=OuterRef("pk"), completed_at__isnull=False
        )
        .order_by()
        .values("enrollment")
        .annotate(n=Count("pk"))
        .values("n")[:1],
        output_field=IntegerField(),
    )
    seconds = Subquery(
        LessonProgress.objects.filter(enrollment=OuterRef("pk"))
        .order_by()
        .values("enrollment")
        .annotate(s=Sum("active_seconds"))
        .values("s")[:1],
        output_field=IntegerField(),
    )
    return queryset.annotate(
        completed_lessons=Coalesce(completed, Value(0)),
        total_lessons=Coalesce(_lessons_total_subquery(), Value(0)),
        active_seconds=Coalesce(seconds, Value(0)),
    ).annotate(
        progress_percent=Case(
            When(total_lessons=0, then=Value(Decimal(0))),
            default=ExpressionWrapper(
                F("completed_lessons") * Decimal(100) / F("total_lessons"),
                output_field=DecimalField(max_digits=6, decimal_places=2),
            ),
            output_field=DecimalField(max_digits=6, decimal_places=2),
        )
    )


def enrollment_list_for_learner(*, user) -> list[Enrollment]:
    return list(
        enrollments_with_progress(
            Enrollment.objects.filter(user=user)
            .exclude(status=EnrollmentStatus.WITHDRAWN)
            .select_related("course", "course__publisher", "last_lesson")
            # The list shows titles only: leave the lesson body (StreamField
            # JSON, quizzes included) and the course's long texts in the DB.
            .defer(
                "last_lesson__body",
                "course__intro",
                "course__learning_outcomes",
                "course__certificate_scope",
            )
        ).order_by("status", "-enrolled_at")
    )


def enrollment_list_for_company(*, company, viewer) -> QuerySet[Enrollment]:
    """Enrolments of the company's current members, as ``viewer`` may see
    them (HR of that company, coordinators), with progress annotations."""
    from organizations.models import Membership

    members = Membership.objects.active().filter(company=company).values("user_id")
    return enrollments_with_progress(
        Enrollment.objects.for_user(viewer)
        .filter(user_id__in=members)
        .select_related("user", "course")
        .order_by("user__name", "course__title")
    )


def quiz_attempts_for(*, enrollment: Enrollment, lesson: LessonPage) -> list:
    return list(
        QuizAttempt.objects.filter(enrollment=enrollment, lesson=lesson).order_by(
            "number"
        )
    )


def progress_by_lesson(enrollments: list[Enrollment]) -> dict[int, list]:
    rows = defaultdict(list)
    for p in LessonProgress.objects.filter(enrollment__in=enrollments):
        rows[p.enrollment_id].append(p)
    return rows
