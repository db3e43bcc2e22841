"""Reads for the HR workspace: dashboard figures, the matrix, employee detail.

Every function answers with a fixed number of queries whatever the number of
employees: figures are aggregates, the matrix fetches one page of people and
then the enrolments, certificates and assignments of that page in one query
each. Callers check ``can_view_company_people`` first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from certificates.models import Certificate
from courses.models import (
    CoursePage,
    Enrollment,
    EnrollmentStatus,
    LessonPage,
    LessonProgress,
    QuizAttempt,
)
from courses.selectors import enrollments_with_progress
from organizations.models import Company, Membership

from .models import CourseAssignment

EXPIRING_DAYS = 90
MATRIX_PAGE_SIZE = 50


# --- the company's people -------------------------------------------------------------


def company_memberships(*, company: Company) -> QuerySet[Membership]:
    """One active membership per person (a person holding two roles in the
    company appears once, with their first membership)."""
    earlier = Membership.objects.active().filter(
        company=company, user_id=OuterRef("user_id"), pk__lt=OuterRef("pk")
    )
    return (
        Membership.objects.active()
        .filter(company=company)
        .exclude(Exists(earlier))
        .select_related("user")
    )


def company_member_ids(*, company: Company) -> QuerySet:
    return Membership.objects.active().filter(company=company).values("user_id")


def company_membership_for_user(*, company: Company, user_id: int) -> Membership | None:
    return (
        Membership.objects.active()
        .filter(company=company, user_id=user_id)
        .select_related("user")
        .order_by("pk")
        .first()
    )


def company_courses(*, company: Company) -> list[CoursePage]:
    """Courses the company's current members take or were assigned."""
    members = company_member_ids(company=company)
    taken = (
        Enrollment.objects.filter(user_id__in=members)
        .exclude(status=EnrollmentStatus.WITHDRAWN)
        .values("course_id")
    )
    assigned = CourseAssignment.objects.filter(company=company).values("course_id")
    return list(
        CoursePage.objects.filter(Q(pk__in=taken) | Q(pk__in=assigned))
        .only("pk", "title", "code", "estimated_hours", "path", "depth")
        .order_by("code")
    )


def company_departments(*, company: Company) -> list[str]:
    return list(
        Membership.objects.active()
        .filter(company=company)
        .exclude(department="")
        .order_by("department")
        .values_list("department", flat=True)
        .distinct()
    )


# --- cell status ----------------------------------------------------------------------


class CellStatus:
    NONE = "none"
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"
    OVERDUE = "overdue"  # a filter only: shown as a flag on the cell

    LABELS = {
        NONE: _("Not enrolled"),
        NOT_STARTED: _("Not started"),
        IN_PROGRESS: _("In progress"),
        COMPLETED: _("Completed"),
        VALID: _("Certificate valid"),
        EXPIRING: _("Certificate expiring"),
        EXPIRED: _("Certificate expired"),
        REVOKED: _("Certificate revoked"),
        OVERDUE: _("Overdue"),
    }
    FILTERABLE = [
        NOT_STARTED,
        IN_PROGRESS,
        COMPLETED,
        VALID,
        EXPIRING,
        EXPIRED,
        REVOKED,
        OVERDUE,
    ]


def _once_per_language(build: Callable[[], dict[str, str]]):
    """Translated cell texts, built once per language (exports format 150,000
    cells; a translation lookup per cell is measurable)."""
    built: dict[str, dict[str, str]] = {}

    def texts() -> dict[str, str]:
        language = get_language() or ""
        if language not in built:
            built[language] = build()
        return built[language]

    return texts


@_once_per_language
def _texts() -> dict[str, str]:
    texts = {key: str(label) for key, label in CellStatus.LABELS.items()}
    texts.update(
        overdue=str(_("Overdue")),
        due=str(_("due")),
        valid_until=str(_("Valid until %(date)s")),
        no_expiry=str(_("Valid, no expiry")),
        expired_on=str(_("Expired %(date)s")),
        completed_on=str(_("Completed %(date)s")),
    )
    return texts


@dataclass
class Cell:
    status: str = CellStatus.NONE
    percent: int = 0
    completed_on: date | None = None
    valid_until: date | None = None
    due_on: date | None = None
    overdue: bool = False
    active_seconds: int = 0
    score: Decimal | None = None
    certificate: Certificate | None = None

    @property
    def label(self) -> str:
        return _texts()[self.status]

    @property
    def text(self) -> str:
        """The cell as words (colour is never the only signal)."""
        texts = _texts()
        if self.status == CellStatus.IN_PROGRESS:
            return f"{texts[self.status]} {self.percent}%"
        if self.status in (CellStatus.VALID, CellStatus.EXPIRING):
            if self.valid_until:
                return texts["valid_until"] % {"date": self.valid_until.isoformat()}
            return texts["no_expiry"]
        if self.status == CellStatus.EXPIRED and self.valid_until:
            return texts["expired_on"] % {"date": self.valid_until.isoformat()}
        if self.status == CellStatus.COMPLETED and self.completed_on:
            return texts["completed_on"] % {"date": self.completed_on.isoformat()}
        return texts[self.status]

    @property
    def html(self) -> SafeString:
        """The cell as HTML (text + colour class); built in Python because a
        template include per cell costs more than the rest of the page."""
        texts = _texts()
        classes = f"hr-cell hr-{self.status}" + (" hr-overdue" if self.overdue else "")
        meter = ""
        if self.status == CellStatus.IN_PROGRESS:
            meter = format_html(
                '<span class="hr-meter" aria-hidden="true">'
                '<span style="width: {}%"></span></span>',
                self.percent,
            )
        note = ""
        if self.overdue:
            note = format_html(
                " <strong>· {} ({})</strong>", texts["overdue"], self.due_on.isoformat()
            )
        elif self.due_on and self.status in (
            CellStatus.NOT_STARTED,
            CellStatus.IN_PROGRESS,
        ):
            note = format_html(" <small>· {} {}</small>", texts["due"], self.due_on)
        return format_html(
            '<span class="{}">{}{}{}</span>', classes, meter, self.text, note
        )

    @property
    def date(self) -> date | None:
        """The date that matters for this cell (for exports)."""
        if self.status in (
            CellStatus.VALID,
            CellStatus.EXPIRING,
            CellStatus.EXPIRED,
        ):
            return self.valid_until
        if self.status == CellStatus.COMPLETED:
            return self.completed_on
        return self.due_on


def cell_for(
    *,
    enrollment: Enrollment | None,
    certificate: Certificate | None,
    assignment: CourseAssignment | None,
    today: date,
) -> Cell:
    cell = Cell()
    if assignment is not None:
        cell.due_on = assignment.due_on
        cell.status = CellStatus.NOT_STARTED
    if enrollment is not None:
        cell.active_seconds = int(getattr(enrollment, "active_seconds", 0) or 0)
        cell.percent = int(getattr(enrollment, "progress_percent", 0) or 0)
        cell.score = enrollment.score
        if enrollment.status == EnrollmentStatus.COMPLETED:
            cell.status = CellStatus.COMPLETED
            cell.percent = 100
            cell.completed_on = (
                timezone.localtime(enrollment.completed_at).date()
                if enrollment.completed_at
                else None
            )
        elif cell.percent > 0 or cell.active_seconds > 0:
            cell.status = CellStatus.IN_PROGRESS
        else:
            cell.status = CellStatus.NOT_STARTED
    if certificate is not None:
        cell.certificate = certificate
        cell.valid_until = certificate.valid_until
        cell.completed_on = cell.completed_on or certificate.completed_on
        if certificate.revoked_at:
            cell.status = CellStatus.REVOKED
        elif certificate.valid_until and certificate.valid_until < today:
            cell.status = CellStatus.EXPIRED
        elif certificate.valid_until and certificate.valid_until <= today + timedelta(
            days=EXPIRING_DAYS
        ):
            cell.status = CellStatus.EXPIRING
        else:
            cell.status = CellStatus.VALID
    done = cell.status not in (
        CellStatus.NONE,
        CellStatus.NOT_STARTED,
        CellStatus.IN_PROGRESS,
    )
    cell.overdue = bool(cell.due_on and cell.due_on < today and not done)
    return cell


# --- the matrix -----------------------------------------------------------------------

SORTS = {
    "number": ("employee_number", "user__name"),
    "-number": ("-employee_number", "-user__name"),
    "name": ("user__name", "employee_number"),
    "-name": ("-user__name", "-employee_number"),
    "department": ("department", "employee_number"),
    "-department": ("-department", "-employee_number"),
    # Progress in the selected course (only with a course filter).
    "course": ("course_rank", "employee_number"),
    "-course": ("-course_rank", "employee_number"),
}


def _course_rank(course_id: int):
    """Not enrolled < lessons completed (by count) < course completed."""
    lessons_done = Subquery(
        LessonProgress.objects.filter(
            enrollment__user_id=OuterRef("user_id"),
            enrollment__course_id=course_id,
            completed_at__isnull=False,
        )
        .order_by()
        .values("enrollment_id")
        .annotate(n=Count("pk"))
        .values("n")[:1]
    )
    completed = Exists(
        Enrollment.objects.filter(
            user_id=OuterRef("user_id"),
            course_id=course_id,
            status=EnrollmentStatus.COMPLETED,
        )
    )
    return Case(
        When(completed, then=Value(100_000)),
        default=Coalesce(lessons_done, Value(0)),
    )


def _status_q(status: str, *, company: Company, course_id: int | None, today: date):
    """A condition on memberships: the person has a cell with ``status``."""
    course = {"course_id": course_id} if course_id else {}
    enrollments = Enrollment.objects.filter(user_id=OuterRef("user_id"), **course)
    certificates = Certificate.objects.current().filter(
        user_id=OuterRef("user_id"), company=company, **course
    )
    soon = today + timedelta(days=EXPIRING_DAYS)
    has_progress = Exists(
        LessonProgress.objects.filter(enrollment_id=OuterRef("pk")).filter(
            Q(active_seconds__gt=0) | Q(completed_at__isnull=False)
        )
    )
    if status == CellStatus.NOT_STARTED:
        return Exists(
            enrollments.filter(status=EnrollmentStatus.ACTIVE).exclude(has_progress)
        )
    if status == CellStatus.IN_PROGRESS:
        return Exists(
            enrollments.filter(status=EnrollmentStatus.ACTIVE).filter(has_progress)
        )
    if status == CellStatus.COMPLETED:
        return Exists(enrollments.filter(status=EnrollmentStatus.COMPLETED))
    if status == CellStatus.VALID:
        return Exists(
            certificates.filter(revoked_at__isnull=True).filter(
                Q(valid_until__isnull=True) | Q(valid_until__gt=soon)
            )
        )
    if status == CellStatus.EXPIRING:
        return Exists(
            certificates.filter(
                revoked_at__isnull=True, valid_until__gte=today, valid_until__lte=soon
            )
        )
    if status == CellStatus.EXPIRED:
        return Exists(
            certificates.filter(revoked_at__isnull=True, valid_until__lt=today)
        )
    if status == CellStatus.REVOKED:
        return Exists(certificates.filter(revoked_at__isnull=False))
    if status == CellStatus.OVERDUE:
        return Exists(
            CourseAssignment.objects.filter(
                company=company, user_id=OuterRef("user_id"), due_on__lt=today, **course
            ).exclude(
                Exists(
                    Enrollment.objects.filter(
                        user_id=OuterRef("user_id"),
                        course_id=OuterRef("course_id"),
                        status=EnrollmentStatus.COMPLETED,
                    )
                )
            )
        )
    raise ValueError(status)


def matrix_people(
    *,
    company: Company,
    department: str = "",
    course_id: int | None = None,
    status: str = "",
    search: str = "",
    sort: str = "number",
    today: date | None = None,
) -> QuerySet[Membership]:
    today = today or timezone.localdate()
    people = company_memberships(company=company)
    if department:
        people = people.filter(department=department)
    if search:
        people = people.filter(
            Q(user__name__icontains=search)
            | Q(employee_number__icontains=search)
            | Q(user__email__icontains=search)
        )
    if status:
        people = people.filter(
            _status_q(status, company=company, course_id=course_id, today=today)
        )
    if sort.lstrip("-") == "course":
        if not course_id:
            sort = "number"
        else:
            people = people.annotate(course_rank=_course_rank(course_id))
    return people.order_by(*SORTS.get(sort, SORTS["number"]))


@dataclass
class MatrixRow:
    membership: Membership
    cells: list[Cell] = field(default_factory=list)


def lesson_totals(courses: list[CoursePage]) -> dict[int, int]:
    """Live lessons per course, in one query."""
    if not courses:
        return {}
    condition = Q()
    for course in courses:
        condition |= Q(path__startswith=course.path, depth=course.depth + 2)
    totals = dict.fromkeys((c.pk for c in courses), 0)
    prefixes = {c.path: c.pk for c in courses}
    for path in (
        LessonPage.objects.live().filter(condition).values_list("path", flat=True)
    ):
        for prefix, pk in prefixes.items():
            if path.startswith(prefix):
                totals[pk] += 1
                break
    return totals


def attach_progress(enrollments: list[Enrollment], courses: list[CoursePage]) -> None:
    """Set ``completed_lessons``, ``total_lessons``, ``progress_percent`` and
    ``active_seconds`` on each enrolment: two grouped queries in all (cheaper
    than per-row subqueries on large pages and exports)."""
    totals = lesson_totals(courses)
    stats = {
        row["enrollment_id"]: row
        for row in LessonProgress.objects.filter(
            enrollment_id__in=[e.pk for e in enrollments]
        )
        .order_by()
        .values("enrollment_id")
        .annotate(
            done=Count("pk", filter=Q(completed_at__isnull=False)),
            seconds=Sum("active_seconds"),
        )
    }
    for e in enrollments:
        row = stats.get(e.pk) or {}
        e.completed_lessons = row.get("done", 0)
        e.active_seconds = int(row.get("seconds") or 0)
        e.total_lessons = totals.get(e.course_id, 0)
        e.progress_percent = (
            Decimal(e.completed_lessons * 100) / e.total_lessons
            if e.total_lessons
            else Decimal(0)
        )


def matrix_cells(
    *,
    company: Company,
    memberships: list[Membership],
    courses: list[CoursePage],
    today: date | None = None,
    with_progress: bool = True,
) -> list[MatrixRow]:
    """Cells for a page of people: three queries whatever the page size."""
    today = today or timezone.localdate()
    user_ids = [m.user_id for m in memberships]
    course_ids = [c.pk for c in courses]
    enrollments = list(
        Enrollment.objects.filter(user_id__in=user_ids, course_id__in=course_ids)
        .exclude(status=EnrollmentStatus.WITHDRAWN)
        .order_by()
        .only("pk", "user_id", "course_id", "status", "completed_at", "score")
    )
    if with_progress:
        attach_progress(enrollments, courses)
    by_enrollment = {(e.user_id, e.course_id): e for e in enrollments}
    by_certificate = {
        (c.user_id, c.course_id): c
        for c in Certificate.objects.current()
        .filter(company=company, user_id__in=user_ids, course_id__in=course_ids)
        .only(
            "pk",
            "user_id",
            "course_id",
            "code",
            "valid_until",
            "revoked_at",
            "completed_on",
            "superseded_at",
            "serial",
        )
    }
    by_assignment = {
        (a.user_id, a.course_id): a
        for a in CourseAssignment.objects.filter(
            company=company, user_id__in=user_ids, course_id__in=course_ids
        )
    }
    rows = []
    for membership in memberships:
        row = MatrixRow(membership=membership)
        for course in courses:
            key = (membership.user_id, course.pk)
            row.cells.append(
                cell_for(
                    enrollment=by_enrollment.get(key),
                    certificate=by_certificate.get(key),
                    assignment=by_assignment.get(key),
                    today=today,
                )
            )
        rows.append(row)
    return rows


def matrix_iter(
    *,
    company: Company,
    people: QuerySet[Membership],
    courses: list[CoursePage],
    chunk: int = 1000,
) -> Iterator[MatrixRow]:
    """All rows of the matrix, a chunk of people at a time (for exports)."""
    ids = list(people.values_list("pk", flat=True))
    order = {pk: i for i, pk in enumerate(ids)}
    for start in range(0, len(ids), chunk):
        part = sorted(
            Membership.objects.filter(pk__in=ids[start : start + chunk]).select_related(
                "user"
            ),
            key=lambda m: order[m.pk],
        )
        yield from matrix_cells(company=company, memberships=part, courses=courses)


# --- dashboard ------------------------------------------------------------------------


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _month_starts(today: date, months: int) -> list[date]:
    first = today.replace(day=1)
    starts = []
    year, month = first.year, first.month
    for _i in range(months):
        starts.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(starts))


@dataclass
class Dashboard:
    employees: int
    active_learners_month: int
    completed_total: int
    completed_year: int
    certificates: dict[str, int]
    credited_hours_year: Decimal
    monthly: list[dict]
    certificates_by_course: list[dict]
    overdue_count: int
    overdue: list[CourseAssignment]


def overdue_assignments(*, company: Company, today: date) -> QuerySet[CourseAssignment]:
    completed = Enrollment.objects.filter(
        user_id=OuterRef("user_id"),
        course_id=OuterRef("course_id"),
        status=EnrollmentStatus.COMPLETED,
    )
    return (
        CourseAssignment.objects.filter(
            company=company,
            due_on__lt=today,
            user_id__in=company_member_ids(company=company),
        )
        .exclude(Exists(completed))
        .select_related("user", "course")
        .order_by("due_on", "pk")
    )


def company_dashboard(*, company: Company, today: date | None = None) -> Dashboard:
    today = today or timezone.localdate()
    members = company_member_ids(company=company)
    month_start = _aware(today.replace(day=1))
    year_start = _aware(today.replace(month=1, day=1))

    employees = (
        Membership.objects.active()
        .filter(company=company)
        .aggregate(n=Count("user_id", distinct=True))["n"]
    )
    # One EXISTS probe per member (index on enrolment user, progress
    # enrolment) beats joining every progress row of the company.
    active_learners = (
        Membership.objects.active()
        .filter(company=company)
        .filter(
            Exists(
                LessonProgress.objects.filter(
                    enrollment__user_id=OuterRef("user_id"),
                    last_seen_at__gte=month_start,
                )
            )
        )
        .aggregate(n=Count("user_id", distinct=True))["n"]
    )
    hours_field = DecimalField(max_digits=12, decimal_places=1)
    completions = Enrollment.objects.filter(
        user_id__in=members, status=EnrollmentStatus.COMPLETED
    ).aggregate(
        total=Count("pk"),
        year=Count("pk", filter=Q(completed_at__gte=year_start)),
        hours=Coalesce(
            Sum("course__estimated_hours", filter=Q(completed_at__gte=year_start)),
            Value(Decimal(0)),
            output_field=hours_field,
        ),
    )

    soon = today + timedelta(days=EXPIRING_DAYS)
    live = Q(revoked_at__isnull=True)
    not_expired = Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    certificates = (
        Certificate.objects.for_company(company)
        .current()
        .aggregate(
            valid=Count("pk", filter=live & not_expired),
            expiring=Count(
                "pk", filter=live & Q(valid_until__gte=today, valid_until__lte=soon)
            ),
            expired=Count("pk", filter=live & Q(valid_until__lt=today)),
            revoked=Count("pk", filter=Q(revoked_at__isnull=False)),
        )
    )

    starts = _month_starts(today, 12)
    monthly_rows = {
        timezone.localtime(row["month"]).date().replace(day=1)
        if isinstance(row["month"], datetime)
        else row["month"]: row
        for row in Enrollment.objects.filter(
            user_id__in=members,
            status=EnrollmentStatus.COMPLETED,
            completed_at__gte=_aware(starts[0]),
        )
        .annotate(month=TruncMonth("completed_at"))
        .order_by()
        .values("month")
        .annotate(n=Count("pk"), hours=Sum("course__estimated_hours"))
    }
    monthly = [
        {
            "month": start,
            "completions": (monthly_rows.get(start) or {}).get("n", 0),
            "hours": (monthly_rows.get(start) or {}).get("hours") or Decimal(0),
        }
        for start in starts
    ]

    by_course = list(
        Certificate.objects.for_company(company)
        .current()
        .order_by()
        .values("course_id", "course_title", "course_code")
        .annotate(
            valid=Count(
                "pk",
                filter=live & (Q(valid_until__isnull=True) | Q(valid_until__gt=soon)),
            ),
            expiring=Count(
                "pk", filter=live & Q(valid_until__gte=today, valid_until__lte=soon)
            ),
            expired=Count("pk", filter=live & Q(valid_until__lt=today)),
            revoked=Count("pk", filter=Q(revoked_at__isnull=False)),
            total=Count("pk"),
        )
        .order_by("-total", "course_code")[:15]
    )

    overdue_qs = overdue_assignments(company=company, today=today)
    overdue = list(overdue_qs[:10])
    overdue_count = len(overdue) if len(overdue) < 10 else overdue_qs.count()

    return Dashboard(
        employees=employees,
        active_learners_month=active_learners,
        completed_total=completions["total"],
        completed_year=completions["year"],
        certificates=certificates,
        credited_hours_year=completions["hours"],
        monthly=monthly,
        certificates_by_course=by_course,
        overdue_count=overdue_count,
        overdue=overdue,
    )


# --- employee detail ------------------------------------------------------------------


@dataclass
class EmployeeCourse:
    enrollment: Enrollment
    cell: Cell
    quiz_attempts: list[QuizAttempt]


def employee_detail(*, company: Company, membership: Membership) -> dict:
    from dispatch.models import PracticalAssessment, Registration

    today = timezone.localdate()
    user_id = membership.user_id
    enrollments = list(
        enrollments_with_progress(
            Enrollment.objects.filter(user_id=user_id).select_related("course")
        ).order_by("-enrolled_at")
    )
    certificates = {
        c.course_id: c
        for c in Certificate.objects.current().filter(user_id=user_id, company=company)
    }
    assignments = {
        a.course_id: a
        for a in CourseAssignment.objects.filter(company=company, user_id=user_id)
    }
    attempts: dict[int, list[QuizAttempt]] = defaultdict(list)
    for attempt in (
        QuizAttempt.objects.filter(
            enrollment__user_id=user_id, submitted_at__isnull=False
        )
        .select_related("lesson")
        .order_by("enrollment_id", "lesson__path", "number")
    ):
        attempts[attempt.enrollment_id].append(attempt)
    courses = [
        EmployeeCourse(
            enrollment=e,
            cell=cell_for(
                enrollment=e if e.status != EnrollmentStatus.WITHDRAWN else None,
                certificate=certificates.get(e.course_id),
                assignment=assignments.get(e.course_id),
                today=today,
            ),
            quiz_attempts=attempts.get(e.pk, []),
        )
        for e in enrollments
    ]
    enrolled_ids = {e.course_id for e in enrollments}
    pending_assignments = [
        a for cid, a in assignments.items() if cid not in enrolled_ids
    ]
    visits = list(
        Registration.objects.filter(user_id=user_id, attended=True, company=company)
        .select_related("visit", "visit__topic")
        .order_by("-visit__starts_at")
    )
    assessments = list(
        PracticalAssessment.objects.filter(
            user_id=user_id,
            visit__registrations__user_id=user_id,
            visit__registrations__company=company,
        )
        .distinct()
        .select_related("visit", "visit__topic")
        .order_by("-recorded_at")
    )
    return {
        "courses": courses,
        "pending_assignments": pending_assignments,
        "visits": visits,
        "assessments": assessments,
        "certificates": sorted(
            certificates.values(), key=lambda c: c.issued_on, reverse=True
        ),
    }


# --- training hours report ------------------------------------------------------------


def hours_iter(
    *,
    company: Company,
    people: QuerySet[Membership],
    course_id: int | None = None,
    chunk: int = 1000,
) -> Iterator[tuple[Membership, Enrollment, Certificate | None]]:
    """Per employee and course (for the hours report): a chunk of people at a
    time, four queries per chunk."""
    ids = list(people.values_list("pk", flat=True))
    order = {pk: i for i, pk in enumerate(ids)}
    courses: dict[int, CoursePage] = {}
    for start in range(0, len(ids), chunk):
        part = sorted(
            Membership.objects.filter(pk__in=ids[start : start + chunk]).select_related(
                "user"
            ),
            key=lambda m: order[m.pk],
        )
        user_ids = [m.user_id for m in part]
        enrollments = Enrollment.objects.filter(user_id__in=user_ids).exclude(
            status=EnrollmentStatus.WITHDRAWN
        )
        if course_id:
            enrollments = enrollments.filter(course_id=course_id)
        enrollments = list(enrollments.order_by())
        missing = {e.course_id for e in enrollments} - set(courses)
        if missing:
            courses.update(
                (c.pk, c)
                for c in CoursePage.objects.filter(pk__in=missing).only(
                    "pk", "title", "code", "estimated_hours", "path", "depth"
                )
            )
        for e in enrollments:
            e.course = courses[e.course_id]
        attach_progress(
            enrollments, [courses[pk] for pk in {e.course_id for e in enrollments}]
        )
        certificates = {
            (c.user_id, c.course_id): c
            for c in Certificate.objects.current().filter(
                company=company, user_id__in=user_ids
            )
        }
        by_user: dict[int, list[Enrollment]] = defaultdict(list)
        for e in enrollments:
            by_user[e.user_id].append(e)
        for membership in part:
            for e in sorted(by_user[membership.user_id], key=lambda e: e.course.code):
                yield membership, e, certificates.get((e.user_id, e.course_id))


def hours_count(*, people: QuerySet[Membership], course_id: int | None = None) -> int:
    enrollments = Enrollment.objects.filter(
        user_id__in=people.values("user_id")
    ).exclude(status=EnrollmentStatus.WITHDRAWN)
    if course_id:
        enrollments = enrollments.filter(course_id=course_id)
    return enrollments.count()


# --- competence matrix ----------------------------------------------------------------
#
# Columns are competence scopes: instrument class, quantity, range and unit,
# accuracy class, procedure and revision. They come from the frozen
# ``Credential.scopes`` of the current certificates of the company's people
# ("held") and from the ``CompetenceScope`` rows of the courses they take or
# were assigned ("targeted"). The authorisation level is what a cell shows:
# the level the person holds for that scope.

SCOPE_KEY_FIELDS = (
    "instrument_class",
    "quantity",
    "range_min",
    "range_max",
    "unit",
    "accuracy_class",
    "procedure",
    "revision",
)
LEVEL_ORDER = ("trainee", "supervised", "perform", "approve")


def scope_key(scope: dict) -> str:
    """A short stable key for a scope snapshot (URLs, filters, auditor links)."""
    import hashlib
    import json

    text = json.dumps(
        [str(scope.get(name) or "").strip() for name in SCOPE_KEY_FIELDS],
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class ScopeColumn:
    key: str
    instrument_class: str
    quantity: str
    range_min: str
    range_max: str
    unit: str
    accuracy_class: str
    procedure: str
    revision: str
    held: bool = False
    targeted: bool = False

    @classmethod
    def from_snapshot(cls, scope: dict) -> ScopeColumn:
        return cls(
            key=scope.get("key") or scope_key(scope),
            **{name: str(scope.get(name) or "") for name in SCOPE_KEY_FIELDS},
        )

    def snapshot(self) -> dict:
        return {"key": self.key, **{n: getattr(self, n) for n in SCOPE_KEY_FIELDS}}

    @property
    def procedure_label(self) -> str:
        return f"{self.procedure}-{self.revision}" if self.revision else self.procedure

    @property
    def range_label(self) -> str:
        return f"{self.range_min}~{self.range_max} {self.unit}".strip()

    @property
    def label(self) -> str:
        parts = [self.instrument_class, f"{self.quantity} {self.range_label}".strip()]
        if self.accuracy_class:
            parts.append(self.accuracy_class)
        parts.append(self.procedure_label)
        return " · ".join(p for p in parts if p)

    @property
    def sort_key(self) -> tuple:
        return (self.procedure, self.revision, self.instrument_class, self.label)


def _held_scope_snapshots(company: Company) -> Iterator[dict]:
    from credentials.models import Credential

    rows = (
        Credential.objects.filter(
            certificate__in=Certificate.objects.for_company(company).current()
        )
        .order_by()
        .values_list("scopes", flat=True)
        .distinct()
    )
    for scopes in rows:
        yield from scopes or []


def company_scopes(*, company: Company) -> list[ScopeColumn]:
    """Every scope held (current certificates) or targeted (the company's
    courses) in ``company``: three queries."""
    from credentials.models import CompetenceScope

    columns: dict[str, ScopeColumn] = {}
    for scope in _held_scope_snapshots(company):
        column = ScopeColumn.from_snapshot(scope)
        columns.setdefault(column.key, column).held = True
    course_ids = [c.pk for c in company_courses(company=company)]
    for scope in CompetenceScope.objects.filter(
        course_id__in=course_ids
    ).select_related("procedure_revision__procedure"):
        column = ScopeColumn.from_snapshot(scope.snapshot())
        columns.setdefault(column.key, column).targeted = True
    return sorted(columns.values(), key=lambda c: c.sort_key)


class CompetenceStatus:
    NONE = "none"
    VALID = "valid"
    EXPIRING = "expiring"
    RENEWAL = "renewal_required"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"

    LABELS = {
        VALID: _("Valid"),
        EXPIRING: _("Expiring within 90 days"),
        RENEWAL: _("Renewal required"),
        EXPIRED: _("Expired"),
        SUSPENDED: _("Suspended"),
        REVOKED: _("Revoked"),
        NONE: _("None"),
    }
    # Best first: which certificate a cell shows when several cover a scope.
    RANK = {VALID: 0, EXPIRING: 1, RENEWAL: 2, EXPIRED: 3, SUSPENDED: 4, REVOKED: 5}
    FILTERABLE = [VALID, EXPIRING, RENEWAL, EXPIRED, SUSPENDED, REVOKED, NONE]


@_once_per_language
def _competence_texts() -> dict[str, str]:
    from credentials.models import AuthorisationLevel

    texts = {key: str(label) for key, label in CompetenceStatus.LABELS.items()}
    texts.update(
        {f"level:{value}": str(label) for value, label in AuthorisationLevel.choices}
    )
    texts.update(
        until=str(_("until %(date)s")),
        expired_on=str(_("expired %(date)s")),
        no_expiry=str(_("no expiry")),
        verify=str(_("Verify")),
    )
    return texts


@dataclass
class CompetenceCell:
    status: str = CompetenceStatus.NONE
    level: str = ""
    valid_until: date | None = None
    code: str = ""
    serial: str = ""
    course_title: str = ""

    @property
    def level_label(self) -> str:
        return _competence_texts().get(f"level:{self.level}", self.level)

    @property
    def status_label(self) -> str:
        return _competence_texts()[self.status]

    @property
    def text(self) -> str:
        """Level, status and date in words (colour is never the only signal)."""
        texts = _competence_texts()
        if self.status == CompetenceStatus.NONE:
            return texts[self.status]
        if self.status == CompetenceStatus.EXPIRED and self.valid_until:
            date_text = texts["expired_on"] % {"date": self.valid_until.isoformat()}
        elif self.valid_until:
            date_text = texts["until"] % {"date": self.valid_until.isoformat()}
        else:
            date_text = texts["no_expiry"]
        return f"{self.level_label} · {texts[self.status]} · {date_text}"

    @property
    def html(self) -> SafeString:
        """Text + colour class + a link to the certificate's public verify
        page; built in Python (no template include per cell)."""
        if self.status == CompetenceStatus.NONE:
            return format_html(
                '<span class="hr-cell hr-none">{}</span>', _competence_texts()["none"]
            )
        from django.urls import reverse

        return format_html(
            '<span class="hr-cell hr-{}">{}</span> <a href="{}" title="{}">{}</a>',
            self.status,
            self.text,
            reverse("certificates:verify_code", args=[self.code]),
            self.serial,
            _competence_texts()["verify"],
        )


def competence_cell_for(
    *, certificate: Certificate, credential, scope: dict, today: date
) -> CompetenceCell:
    if certificate.revoked_at:
        status = CompetenceStatus.REVOKED
    elif credential.suspended_at:
        status = CompetenceStatus.SUSPENDED
    elif certificate.valid_until and certificate.valid_until < today:
        status = CompetenceStatus.EXPIRED
    elif credential.renewal_required_at:
        status = CompetenceStatus.RENEWAL
    elif certificate.valid_until and certificate.valid_until <= today + timedelta(
        days=EXPIRING_DAYS
    ):
        status = CompetenceStatus.EXPIRING
    else:
        status = CompetenceStatus.VALID
    return CompetenceCell(
        status=status,
        level=scope.get("level") or "",
        valid_until=certificate.valid_until,
        code=certificate.code,
        serial=certificate.serial,
        course_title=certificate.course_title,
    )


def _better(new: CompetenceCell, old: CompetenceCell | None) -> bool:
    if old is None:
        return True

    def rank(cell: CompetenceCell) -> tuple:
        level = LEVEL_ORDER.index(cell.level) if cell.level in LEVEL_ORDER else -1
        return (
            -CompetenceStatus.RANK[cell.status],
            level,
            cell.valid_until or date.max,
        )

    return rank(new) > rank(old)


def competence_cells_by_user(
    *, company: Company, user_ids, keys: set[str], today: date
) -> dict[int, dict[str, CompetenceCell]]:
    """The best cell per person and scope key, from the credentials of the
    people's current certificates issued at ``company``: one query.

    ``user_ids`` is a list or a subquery of user ids."""
    from credentials.models import Credential

    credentials = (
        Credential.objects.filter(
            certificate__company=company,
            certificate__superseded_at__isnull=True,
            certificate__user_id__in=user_ids,
        )
        .select_related("certificate")
        .only(
            "pk",
            "scopes",
            "suspended_at",
            "renewal_required_at",
            "certificate__id",
            "certificate__user_id",
            "certificate__code",
            "certificate__serial",
            "certificate__valid_until",
            "certificate__revoked_at",
            "certificate__course_title",
        )
        .order_by()
    )
    cells: dict[int, dict[str, CompetenceCell]] = defaultdict(dict)
    for credential in credentials:
        certificate = credential.certificate
        for scope in credential.scopes or []:
            key = scope_key(scope)
            if key not in keys:
                continue
            cell = competence_cell_for(
                certificate=certificate, credential=credential, scope=scope, today=today
            )
            person = cells[certificate.user_id]
            if _better(cell, person.get(key)):
                person[key] = cell
    return cells


def _matches(
    cells: dict[str, CompetenceCell], keys: list[str], status: str, holders_only: bool
) -> bool:
    statuses = [cells[k].status if k in cells else CompetenceStatus.NONE for k in keys]
    if status and status not in statuses:
        return False
    if holders_only and all(s == CompetenceStatus.NONE for s in statuses):
        return False
    return True


def competence_people(
    *,
    company: Company,
    columns: list[ScopeColumn],
    department: str = "",
    search: str = "",
    sort: str = "number",
    status: str = "",
    holders_only: bool = False,
    today: date | None = None,
) -> QuerySet[Membership] | list[int]:
    """The rows of the competence matrix, in order.

    Without a status filter (and for HR) a queryset of memberships; with a
    status filter or ``holders_only`` (auditor links: only people who hold
    one of the visible scopes) the list of matching membership ids, computed
    from one query over the company's credentials. Either way a fixed number
    of queries, whatever the number of employees."""
    today = today or timezone.localdate()
    if sort.lstrip("-") not in ("number", "name", "department"):
        sort = "number"
    people = matrix_people(
        company=company, department=department, search=search, sort=sort, today=today
    )
    if not status and not holders_only:
        return people
    keys = [c.key for c in columns]
    pairs = list(people.values_list("pk", "user_id"))
    cells = competence_cells_by_user(
        company=company,
        user_ids=people.values("user_id"),
        keys=set(keys),
        today=today,
    )
    return [
        pk
        for pk, user_id in pairs
        if _matches(cells.get(user_id, {}), keys, status, holders_only)
    ]


@dataclass
class CompetenceRow:
    membership: Membership
    cells: list[CompetenceCell] = field(default_factory=list)


def competence_memberships(ids: list[int]) -> list[Membership]:
    """Memberships by id, in the order given (one query)."""
    order = {pk: i for i, pk in enumerate(ids)}
    return sorted(
        Membership.objects.filter(pk__in=ids).select_related("user"),
        key=lambda m: order[m.pk],
    )


def competence_rows(
    *,
    company: Company,
    memberships: list[Membership],
    columns: list[ScopeColumn],
    today: date | None = None,
) -> list[CompetenceRow]:
    """Cells for a page of people: one query whatever the page size."""
    today = today or timezone.localdate()
    keys = [c.key for c in columns]
    cells = competence_cells_by_user(
        company=company,
        user_ids=[m.user_id for m in memberships],
        keys=set(keys),
        today=today,
    )
    rows = []
    for membership in memberships:
        person = cells.get(membership.user_id, {})
        rows.append(
            CompetenceRow(
                membership=membership,
                cells=[person.get(key) or CompetenceCell() for key in keys],
            )
        )
    return rows


def competence_iter(
    *,
    company: Company,
    people: QuerySet[Membership] | list[int],
    columns: list[ScopeColumn],
    chunk: int = 1000,
) -> Iterator[CompetenceRow]:
    """All rows, a chunk of people at a time (for exports)."""
    ids = (
        people
        if isinstance(people, list)
        else list(people.values_list("pk", flat=True))
    )
    for start in range(0, len(ids), chunk):
        part = competence_memberships(ids[start : start + chunk])
        yield from competence_rows(company=company, memberships=part, columns=columns)


def auditor_link_columns(*, link, columns: list[ScopeColumn]) -> list[ScopeColumn]:
    """The columns an auditor link shows: all the company's scopes, or the
    scopes it was limited to (also when nobody holds them any more)."""
    if not link.scopes:
        return columns
    known = {c.key: c for c in columns}
    return [known.get(s["key"]) or ScopeColumn.from_snapshot(s) for s in link.scopes]


def auditor_access_list(*, link, limit: int = 200):
    return list(link.accesses.all()[:limit])
