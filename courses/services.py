"""State changes for enrolments, lesson progress and quizzes.

Every function is keyword-only, runs in one transaction and schedules side
effects (the ``course_completed`` signal) with ``transaction.on_commit``.
Concurrency: counters move with ``F()`` expressions; state transitions
(lesson complete, course complete) are conditional ``UPDATE`` statements so
that of two concurrent requests exactly one wins.
"""

from __future__ import annotations

import logging
import math
import random
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .grading import is_correct, parse_answer
from .models import (
    CourseIndexPage,
    CoursePage,
    Enrollment,
    EnrollmentEvent,
    EnrollmentStatus,
    LessonPage,
    LessonProgress,
    QuizAttempt,
)
from .permissions import enrol_refusal
from .requirements import external_requirements
from .rules import lesson_rules_met
from .signals import course_completed

logger = logging.getLogger("academy.courses")

ENROLLMENT_EXISTS = _("You are already enrolled in %(course)s.")
ENROLLMENT_NOT_FOUND = _("You are not enrolled in this course.")
ENROLLMENT_COMPLETED_WITHDRAW = _(
    "You completed %(course)s; a completed course cannot be left."
)
LESSON_NOT_IN_COURSE = _("This lesson is not part of a published course.")
LESSON_LOCKED = _("Complete the previous lessons of this course first.")
HEARTBEAT_DELTA_INVALID = _(
    "The reported study time must be a whole number of seconds between 1 and %(max)s."
)
HEARTBEAT_TOO_FAST = _(
    "More study time was reported than has passed since the lesson was opened."
)
HEARTBEAT_VIDEO_INVALID = _("The video position and duration must be non-negative.")
QUIZ_NOT_FOUND = _("This lesson has no quiz.")
QUIZ_NO_ATTEMPTS_LEFT = _("You have used all %(limit)s attempts for this quiz.")
QUIZ_ATTEMPT_CLOSED = _("This attempt has already been submitted.")
QUIZ_ATTEMPT_NOT_YOURS = _("This quiz attempt belongs to someone else.")
QUIZ_UNKNOWN_QUESTION = _(
    "The submission contains answers to questions that were not part of this attempt."
)

_CENT = Decimal("0.01")
# ``LessonProgress.last_seen_at`` is kept to this precision when a lesson is
# opened (reports read it by month).
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def heartbeat_interval() -> int:
    return int(getattr(settings, "COURSES_HEARTBEAT_SECONDS", 15))


# --- lessons of a course -----------------------------------------------------


def course_lessons(course: CoursePage) -> list[LessonPage]:
    """Live lessons in live modules of ``course``, in tree order."""
    from .models import ModulePage

    module_paths = list(
        ModulePage.objects.child_of(course).live().values_list("path", flat=True)
    )
    if not module_paths:
        return []
    steplen = ModulePage.steplen
    depth = course.depth + 1
    lessons = (
        LessonPage.objects.live()
        .filter(path__startswith=course.path, depth=course.depth + 2)
        .order_by("path")
    )
    live_modules = set(module_paths)
    return [
        lesson for lesson in lessons if lesson.path[: depth * steplen] in live_modules
    ]


def lesson_course(lesson: LessonPage) -> CoursePage | None:
    course = (
        CoursePage.objects.live()
        .ancestor_of(lesson)
        .select_related("publisher")
        .first()
    )
    return course


# --- enrolment ----------------------------------------------------------------


def _event(enrollment: Enrollment, kind: str, by=None) -> None:
    EnrollmentEvent.objects.create(
        enrollment=enrollment, kind=kind, at=timezone.now(), by=by
    )


@transaction.atomic
def enrollment_create(*, user, course: CoursePage, enrolled_by=None) -> Enrollment:
    """Enrol ``user``; a withdrawn enrolment is re-activated with its progress."""
    refusal = enrol_refusal(user, course)
    if refusal:
        raise ValidationError(refusal, code="refused")
    existing = (
        Enrollment.objects.select_for_update().filter(user=user, course=course).first()
    )
    now = timezone.now()
    if existing is not None:
        if existing.status != EnrollmentStatus.WITHDRAWN:
            raise ValidationError(
                ENROLLMENT_EXISTS, code="exists", params={"course": course.title}
            )
        existing.status = EnrollmentStatus.ACTIVE
        existing.withdrawn_at = None
        existing.save(update_fields=["status", "withdrawn_at"])
        _event(existing, "reenrolled", enrolled_by or user)
        # Requirements may have been met meanwhile (e.g. a visit attended).
        _enrollment_try_complete(existing)
        return existing
    try:
        with transaction.atomic():
            enrollment = Enrollment.objects.create(
                user=user,
                course=course,
                enrolled_at=now,
                enrolled_by=enrolled_by or user,
            )
    except IntegrityError as error:
        raise ValidationError(
            ENROLLMENT_EXISTS, code="exists", params={"course": course.title}
        ) from error
    _event(enrollment, "enrolled", enrolled_by or user)
    logger.info("enrolled", extra={"user_id": user.pk, "course_id": course.pk})
    return enrollment


@transaction.atomic
def enrollment_withdraw(*, enrollment: Enrollment, by) -> Enrollment:
    """Leave a course; the row and all progress stay as history."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.user_id != by.pk:
        raise PermissionDenied(ENROLLMENT_NOT_FOUND)
    if enrollment.status == EnrollmentStatus.COMPLETED:
        raise ValidationError(
            ENROLLMENT_COMPLETED_WITHDRAW,
            code="completed",
            params={"course": enrollment.course.title},
        )
    if enrollment.status == EnrollmentStatus.WITHDRAWN:
        return enrollment
    enrollment.status = EnrollmentStatus.WITHDRAWN
    enrollment.withdrawn_at = timezone.now()
    enrollment.save(update_fields=["status", "withdrawn_at"])
    _event(enrollment, "withdrawn", by)
    return enrollment


def _current_enrollment(user, course: CoursePage) -> Enrollment:
    enrollment = (
        Enrollment.objects.current().filter(user=user, course=course).first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if enrollment is None:
        raise PermissionDenied(ENROLLMENT_NOT_FOUND)
    return enrollment


def lesson_is_unlocked(
    *, enrollment: Enrollment, lesson: LessonPage, lessons: list[LessonPage] | None
) -> bool:
    course = enrollment.course
    if not course.sequential or enrollment.status == EnrollmentStatus.COMPLETED:
        return True
    lessons = lessons if lessons is not None else course_lessons(course)
    ids = [item.pk for item in lessons]
    if lesson.pk not in ids:
        return False
    before = ids[: ids.index(lesson.pk)]
    if not before:
        return True
    done = LessonProgress.objects.filter(
        enrollment=enrollment, lesson_id__in=before, completed_at__isnull=False
    ).count()
    return done == len(before)


def _progress_for(
    enrollment: Enrollment, lesson: LessonPage
) -> tuple[LessonProgress, bool]:
    now = timezone.now()
    progress = LessonProgress.objects.filter(
        enrollment=enrollment, lesson=lesson
    ).first()
    if progress is not None:
        return progress, False
    try:
        with transaction.atomic():
            progress = LessonProgress.objects.create(
                enrollment=enrollment,
                lesson=lesson,
                first_seen_at=now,
                last_seen_at=now,
            )
    except IntegrityError:  # opened concurrently in another tab
        return LessonProgress.objects.get(enrollment=enrollment, lesson=lesson), False
    return progress, True


@transaction.atomic
def lesson_open(
    *, user, lesson: LessonPage, course: CoursePage | None = None
) -> tuple[Enrollment, LessonProgress]:
    """Record that the learner opened a lesson (for resume).

    ``course``: the lesson's course when the caller has just looked it up
    with ``lesson_course(lesson)`` (saves the query); looked up otherwise.
    Reopening the last lesson writes nothing, and ``last_seen_at`` moves only
    when it is ``LAST_SEEN_RESOLUTION`` old (heartbeats move it too), so a
    reload is a read-only transaction.
    """
    course = course if course is not None else lesson_course(lesson)
    if course is None:
        raise ValidationError(LESSON_NOT_IN_COURSE, code="not_in_course")
    enrollment = _current_enrollment(user, course)
    enrollment.course = course
    if not lesson_is_unlocked(enrollment=enrollment, lesson=lesson, lessons=None):
        raise PermissionDenied(LESSON_LOCKED)
    progress, created = _progress_for(enrollment, lesson)
    if enrollment.last_lesson_id != lesson.pk:
        Enrollment.objects.filter(pk=enrollment.pk).update(last_lesson=lesson)
    enrollment.last_lesson = lesson
    now = timezone.now()
    if not created and now - progress.last_seen_at >= LAST_SEEN_RESOLUTION:
        LessonProgress.objects.filter(pk=progress.pk).update(last_seen_at=now)
        progress.last_seen_at = now
    return enrollment, progress


# --- heartbeats -----------------------------------------------------------------


def _parse_float(value, *, maximum: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as error:
        raise ValidationError(HEARTBEAT_VIDEO_INVALID, code="video") from error
    if not math.isfinite(number) or number < 0 or number > maximum:
        raise ValidationError(HEARTBEAT_VIDEO_INVALID, code="video")
    return number


def _update_returning(queryset, values: dict[str, Any], fields: list[str]) -> list:
    """``queryset.update(**values)`` that also returns ``fields`` of the
    updated rows in the same statement (``UPDATE … RETURNING`` on PostgreSQL
    and SQLite; an update plus a select elsewhere)."""
    from django.db import router
    from django.db.models import sql

    model = queryset.model
    using = router.db_for_write(model)  # as update() would, never a replica
    queryset = queryset.using(using)
    connection = transaction.get_connection(using)
    if not connection.features.can_return_rows_from_update:
        pks = list(queryset.select_for_update().values_list("pk", flat=True))
        queryset.filter(pk__in=pks).update(**values)
        rows = model._default_manager.using(using).filter(pk__in=pks)
        return list(rows.values_list(*fields))
    query = queryset.query.chain(sql.UpdateQuery)
    query.add_update_values(values)
    try:
        with transaction.mark_for_rollback_on_error(using=using):
            return query.get_compiler(using).execute_returning_sql(
                [model._meta.get_field(name) for name in fields]
            )
    except EmptyResultSet:
        # A condition no row can meet (e.g. ``active_seconds__lte`` below the
        # field's range): Django compiles no SQL, and update() would return 0.
        return []


_HEARTBEAT_RETURNING = [
    "active_seconds",
    "last_seen_at",
    "video_position",
    "video_watched_seconds",
    "video_duration",
    "quiz_best_score",
    "quiz_passed",
    "completed_at",
]


def _heartbeat_progress(user, lesson_id: int) -> LessonProgress | None:
    """The learner's progress row for a live lesson of a live course they are
    enrolled in (not withdrawn), with ``lesson`` set: two index lookups.

    Two small queries rather than one seven-table join: on PostgreSQL the
    join took ~0.9 ms to plan per heartbeat, the pair ~0.26 ms.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    lesson = (
        LessonPage.objects.filter(pk=lesson_id, live=True)
        .only("path", "depth", "title", "live", "min_active_seconds", "body")
        .first()
    )
    if lesson is None:
        return None
    # The course is the lesson's ancestor two levels up (course → module).
    course_path = lesson.path[: -2 * lesson.steplen]
    progress = (
        LessonProgress.objects.filter(
            lesson_id=lesson.pk,
            enrollment__user=user,
            enrollment__course__path=course_path,
            enrollment__course__live=True,
        )
        .exclude(enrollment__status=EnrollmentStatus.WITHDRAWN)
        .only("id", "enrollment", "lesson", "first_seen_at", "completed_at")
        .first()
    )
    if progress is not None:
        progress.lesson = lesson
    return progress


def _heartbeat_refusal(user, lesson_id: int) -> Exception:
    """Why no progress row was found (the slow path, for rejected beats)."""
    lesson = LessonPage.objects.live().filter(pk=lesson_id).first()
    if lesson is None:
        return LessonPage.DoesNotExist(lesson_id)
    course = lesson_course(lesson)
    if course is None:
        return ValidationError(LESSON_NOT_IN_COURSE, code="not_in_course")
    try:
        _current_enrollment(user, course)
    except PermissionDenied as error:
        return error
    # A heartbeat only counts for a lesson the learner has opened.
    return PermissionDenied(LESSON_LOCKED)


@transaction.atomic
def heartbeat_record(
    *,
    user,
    lesson: LessonPage | int,
    delta_seconds: Any,
    video_position: Any = None,
    video_duration: Any = None,
) -> LessonProgress:
    """Add ``delta_seconds`` of active time (and video progress) to a lesson.

    Accepts only plausible deltas: whole seconds in (0, 2 × interval], and no
    more time in total than has passed since the lesson was first opened (plus
    one interval of slack). Rejected input raises ``ValidationError`` and
    changes nothing; an unknown or unpublished lesson raises
    ``LessonPage.DoesNotExist``. The returned row has ``lesson`` loaded.

    Hot path (every open lesson, every interval): two index lookups find the
    lesson and the row (lesson → course → current enrolment → progress), one
    conditional ``UPDATE … RETURNING`` adds the time; the enrolment is loaded
    only when the lesson becomes complete.
    """
    interval = heartbeat_interval()
    maximum = 2 * interval
    if isinstance(delta_seconds, bool) or not isinstance(delta_seconds, int | str):
        raise ValidationError(
            HEARTBEAT_DELTA_INVALID, code="delta", params={"max": maximum}
        )
    try:
        delta = int(delta_seconds)
    except ValueError as error:
        raise ValidationError(
            HEARTBEAT_DELTA_INVALID, code="delta", params={"max": maximum}
        ) from error
    if not 0 < delta <= maximum:
        raise ValidationError(
            HEARTBEAT_DELTA_INVALID, code="delta", params={"max": maximum}
        )
    position = _parse_float(video_position, maximum=24 * 3600)
    duration = _parse_float(video_duration, maximum=24 * 3600)
    lesson_id = lesson if isinstance(lesson, int) else lesson.pk
    progress = _heartbeat_progress(user, lesson_id)
    if progress is None:
        raise _heartbeat_refusal(user, lesson_id)
    lesson = progress.lesson
    now = timezone.now()
    elapsed = (now - progress.first_seen_at).total_seconds()
    budget = int(elapsed) + maximum
    updates: dict[str, Any] = {
        "active_seconds": F("active_seconds") + delta,
        "last_seen_at": now,
    }
    if position is not None:
        updates["video_position"] = position
        # Watched time grows at most by the delta (no skipping to the end).
        updates["video_watched_seconds"] = Greatest(
            F("video_watched_seconds"),
            Least(position, F("video_watched_seconds") + delta + 2),
        )
    if duration:
        updates["video_duration"] = duration
    rows = _update_returning(
        LessonProgress.objects.filter(
            pk=progress.pk, active_seconds__lte=budget - delta
        ),
        updates,
        _HEARTBEAT_RETURNING,
    )
    if not rows:
        raise ValidationError(HEARTBEAT_TOO_FAST, code="too_fast")
    for name, value in zip(_HEARTBEAT_RETURNING, rows[0], strict=True):
        setattr(progress, name, value)
    if progress.completed_at is None and lesson_rules_met(lesson, progress):
        enrollment = Enrollment.objects.select_related("course").get(
            pk=progress.enrollment_id
        )
        _lesson_try_complete(enrollment, lesson, progress)
    return progress


# --- completion -------------------------------------------------------------------


def _lesson_try_complete(
    enrollment: Enrollment, lesson: LessonPage, progress: LessonProgress
) -> bool:
    if progress.completed_at is not None:
        return True
    if not lesson_rules_met(lesson, progress):
        return False
    won = LessonProgress.objects.filter(
        pk=progress.pk, completed_at__isnull=True
    ).update(completed_at=timezone.now())
    progress.refresh_from_db(fields=["completed_at"])
    if won:
        _enrollment_try_complete(enrollment)
    return True


def course_score(enrollment: Enrollment, lessons: list[LessonPage]) -> Decimal | None:
    quiz_lessons = [lesson.pk for lesson in lessons if lesson.quiz_block is not None]
    if not quiz_lessons:
        return None
    best = dict(
        LessonProgress.objects.filter(
            enrollment=enrollment, lesson_id__in=quiz_lessons
        ).values_list("lesson_id", "quiz_best_score")
    )
    total = sum((best.get(pk) or Decimal(0)) for pk in quiz_lessons)
    return (Decimal(total) / len(quiz_lessons)).quantize(_CENT, ROUND_HALF_UP)


def enrollment_requirements_met(enrollment: Enrollment) -> tuple[bool, Decimal | None]:
    """Whether the course's pass rules and external requirements all hold."""
    course = enrollment.course
    lessons = course_lessons(course)
    if not lessons:
        return False, None
    done = LessonProgress.objects.filter(
        enrollment=enrollment,
        lesson_id__in=[lesson.pk for lesson in lessons],
        completed_at__isnull=False,
    ).count()
    score = course_score(enrollment, lessons)
    if done < len(lessons):
        return False, score
    if course.min_score is not None and (score or Decimal(0)) < course.min_score:
        return False, score
    if not all(status.met for status in external_requirements(enrollment)):
        return False, score
    return True, score


def _enrollment_try_complete(enrollment: Enrollment) -> bool:
    if enrollment.status == EnrollmentStatus.COMPLETED:
        return True
    if enrollment.status != EnrollmentStatus.ACTIVE:
        return False
    met, score = enrollment_requirements_met(enrollment)
    if not met:
        return False
    now = timezone.now()
    won = Enrollment.objects.filter(
        pk=enrollment.pk, status=EnrollmentStatus.ACTIVE
    ).update(status=EnrollmentStatus.COMPLETED, completed_at=now, score=score)
    if not won:
        # A concurrent request completed it first; it sends the signal.
        return True
    enrollment.status = EnrollmentStatus.COMPLETED
    enrollment.completed_at = now
    enrollment.score = score
    _event(enrollment, "completed")
    logger.info(
        "course_completed",
        extra={"enrollment_id": enrollment.pk, "course_id": enrollment.course_id},
    )
    completed = Enrollment.objects.select_related("user", "course").get(
        pk=enrollment.pk
    )
    transaction.on_commit(
        lambda: course_completed.send(sender=Enrollment, enrollment=completed)
    )
    return True


@transaction.atomic
def enrollment_recheck_completion(*, user, course: CoursePage) -> bool:
    """Re-evaluate completion after something a requirement provider reads
    changed. Idempotent; returns whether the enrolment is complete."""
    enrollment = (
        Enrollment.objects.select_for_update()
        .filter(user=user, course=course)
        .exclude(status=EnrollmentStatus.WITHDRAWN)
        .first()
    )
    if enrollment is None:
        return False
    if enrollment.status == EnrollmentStatus.COMPLETED:
        return True
    # Lessons completed meanwhile (e.g. their rules were relaxed) count too.
    progress_by_lesson = {
        p.lesson_id: p
        for p in LessonProgress.objects.filter(
            enrollment=enrollment, completed_at__isnull=True
        )
    }
    for lesson in course_lessons(course):
        progress = progress_by_lesson.get(lesson.pk)
        if progress is not None and lesson_rules_met(lesson, progress):
            LessonProgress.objects.filter(
                pk=progress.pk, completed_at__isnull=True
            ).update(completed_at=timezone.now())
    return _enrollment_try_complete(enrollment)


# --- quizzes ----------------------------------------------------------------------


def quiz_questions(lesson: LessonPage) -> dict[str, Any]:
    """Question id → stream child of the lesson's quiz block."""
    quiz = lesson.quiz_block
    if quiz is None:
        return {}
    return {child.id: child for child in quiz.value["questions"]}


@transaction.atomic
def quiz_attempt_start(*, user, lesson: LessonPage) -> QuizAttempt:
    """Draw questions for a new attempt; an open attempt is returned as is."""
    quiz = lesson.quiz_block
    if quiz is None:
        raise ValidationError(QUIZ_NOT_FOUND, code="no_quiz")
    course = lesson_course(lesson)
    if course is None:
        raise ValidationError(LESSON_NOT_IN_COURSE, code="not_in_course")
    enrollment = _current_enrollment(user, course)
    enrollment.course = course
    # Serialise attempts of one learner (no-op on SQLite, whose writes are
    # serialised anyway).
    enrollment = (
        Enrollment.objects.select_for_update()
        .select_related("course")
        .get(pk=enrollment.pk)
    )
    if not lesson_is_unlocked(enrollment=enrollment, lesson=lesson, lessons=None):
        raise PermissionDenied(LESSON_LOCKED)
    attempts = QuizAttempt.objects.filter(enrollment=enrollment, lesson=lesson)
    open_attempt = attempts.filter(submitted_at__isnull=True).first()
    if open_attempt is not None:
        return open_attempt
    limit = quiz.value["attempt_limit"]
    used = attempts.count()
    if limit and used >= limit:
        raise ValidationError(
            QUIZ_NO_ATTEMPTS_LEFT, code="no_attempts", params={"limit": limit}
        )
    ids = list(quiz_questions(lesson))
    count = quiz.value["questions_per_attempt"] or len(ids)
    served = random.sample(ids, min(count, len(ids)))  # noqa: S311 - not crypto
    _progress_for(enrollment, lesson)
    return QuizAttempt.objects.create(
        enrollment=enrollment,
        lesson=lesson,
        number=used + 1,
        served_questions=served,
        pass_mark=quiz.value["pass_mark"],
        started_at=timezone.now(),
    )


@transaction.atomic
def quiz_attempt_submit(
    *, user, attempt: QuizAttempt, answers: dict[str, Any]
) -> QuizAttempt:
    """Grade an attempt on the server.

    ``answers`` maps question ids to raw values (see ``grading.parse_answer``).
    Answers to questions not served, a second submission or malformed values
    raise ``ValidationError`` and change nothing.
    """
    attempt = (
        QuizAttempt.objects.select_for_update()
        .select_related("enrollment")
        .get(pk=attempt.pk)
    )
    if attempt.enrollment.user_id != getattr(user, "pk", None):
        raise PermissionDenied(QUIZ_ATTEMPT_NOT_YOURS)
    if attempt.enrollment.status == EnrollmentStatus.WITHDRAWN:
        raise PermissionDenied(ENROLLMENT_NOT_FOUND)
    if attempt.submitted_at is not None:
        raise ValidationError(QUIZ_ATTEMPT_CLOSED, code="closed")
    served = list(attempt.served_questions)
    unknown = set(answers) - set(served)
    if unknown:
        raise ValidationError(QUIZ_UNKNOWN_QUESTION, code="unknown_question")
    lesson = LessonPage.objects.get(pk=attempt.lesson_id)
    questions = quiz_questions(lesson)
    parsed: dict[str, Any] = {}
    errors = []
    for number, question_id in enumerate(served, start=1):
        child = questions.get(question_id)
        if child is None:
            continue  # removed from the pool since the attempt started
        try:
            parsed[question_id] = parse_answer(
                child.block_type, child.value, answers.get(question_id), number=number
            )
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise ValidationError(errors)
    results = {
        qid: is_correct(questions[qid].block_type, questions[qid].value, answer)
        for qid, answer in parsed.items()
    }
    graded = len(results)
    score = (
        (Decimal(sum(results.values())) * 100 / graded).quantize(_CENT, ROUND_HALF_UP)
        if graded
        else Decimal(0)
    )
    now = timezone.now()
    closed = QuizAttempt.objects.filter(
        pk=attempt.pk, submitted_at__isnull=True
    ).update(
        answers=parsed,
        results=results,
        score=score,
        passed=score >= attempt.pass_mark,
        submitted_at=now,
    )
    if not closed:
        raise ValidationError(QUIZ_ATTEMPT_CLOSED, code="closed")
    attempt.refresh_from_db()
    enrollment = attempt.enrollment
    progress, _created = _progress_for(enrollment, lesson)
    updates: dict[str, Any] = {
        "quiz_best_score": Greatest(
            Coalesce(F("quiz_best_score"), Value(Decimal(0))), Value(score)
        )
    }
    if attempt.passed:
        updates["quiz_passed"] = True
    LessonProgress.objects.filter(pk=progress.pk).update(**updates)
    progress.refresh_from_db()
    enrollment.course = CoursePage.objects.get(pk=enrollment.course_id)
    _lesson_try_complete(enrollment, lesson, progress)
    return attempt


# --- authoring: groups, page permissions, moderation workflow ---------------------

EXPERT_GROUP_PREFIX = "Experts: "
WORKFLOW_NAME = "Course review"
REVIEW_TASK_NAME = "Coordinator or enterprise reviewer"
# The group task of earlier installations; replaced by ``CourseReviewTask``.
LEGACY_REVIEW_TASK_NAME = "Coordinator review"
# Page permissions per group; experts never publish, so every change they make
# goes through the review workflow.
EXPERT_PAGE_PERMISSIONS = ["add_page", "change_page"]
COORDINATOR_PAGE_PERMISSIONS = [
    "add_page",
    "change_page",
    "publish_page",
    "lock_page",
    "unlock_page",
]
EXPERT_COLLECTION_PERMISSIONS = [
    "wagtailimages.add_image",
    "wagtailimages.choose_image",
    "wagtaildocs.add_document",
    "wagtaildocs.choose_document",
]


def expert_group_name(company) -> str:
    return f"{EXPERT_GROUP_PREFIX}{company.name}"[:150]


def _page_permission(codename: str):
    from django.contrib.auth.models import Permission

    return Permission.objects.get(
        content_type__app_label="wagtailcore", codename=codename
    )


@transaction.atomic
def course_permissions_sync(*, course: CoursePage) -> None:
    """Grant the publisher's experts group add/change on this course's
    subtree, and take it from every other enterprise's experts group."""
    from django.contrib.auth.models import Group
    from wagtail.models import GroupPagePermission

    group, _created = Group.objects.get_or_create(
        name=expert_group_name(course.publisher)
    )
    GroupPagePermission.objects.filter(
        page=course, group__name__startswith=EXPERT_GROUP_PREFIX
    ).exclude(group=group).delete()
    for codename in EXPERT_PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=group, page=course, permission=_page_permission(codename)
        )


@transaction.atomic
def expert_groups_sync(*, user) -> None:
    """Put ``user`` in the experts groups of the lead enterprises where they
    are an expert today, and out of every other one."""
    from django.contrib.auth.models import Group

    from organizations.models import (
        EXPERT_GROUP_NAME,
        Company,
        CompanyKind,
        Membership,
        Role,
    )
    from organizations.permissions import clear_permission_cache

    company_ids = (
        Membership.objects.active()
        .filter(user=user, role=Role.EXPERT, company__kind=CompanyKind.LEAD)
        .values("company_id")
    )
    wanted = {
        expert_group_name(company)
        for company in Company.objects.filter(pk__in=company_ids)
    }
    current = set(
        user.groups.filter(name__startswith=EXPERT_GROUP_PREFIX).values_list(
            "name", flat=True
        )
    )
    for name in wanted - current:
        group, _created = Group.objects.get_or_create(name=name)
        user.groups.add(group)
    stale = current - wanted
    if stale:
        user.groups.remove(*Group.objects.filter(name__in=stale))
    expert_group, _created = Group.objects.get_or_create(name=EXPERT_GROUP_NAME)
    if wanted:
        user.groups.add(expert_group)
    else:
        user.groups.remove(expert_group)
    clear_permission_cache(user)


def _review_task_ensure(workflow):
    """The workflow's ``CourseReviewTask``, created and attached first."""
    from wagtail.models import WorkflowTask

    from .models import CourseReviewTask

    task = CourseReviewTask.objects.filter(name=REVIEW_TASK_NAME).first()
    if task is None:
        task = CourseReviewTask.objects.create(name=REVIEW_TASK_NAME)
    elif not task.active:
        task.active = True
        task.save(update_fields=["active"])
    if not WorkflowTask.objects.filter(workflow=workflow, task=task).exists():
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    return task


def _legacy_review_task_retire(workflow, task) -> None:
    """Replace the group task "Coordinator review" of earlier installations.

    It leaves the workflow and is deactivated. Reviews in progress on it move
    to ``task`` (Wagtail cancels the old task state and starts the next active
    task of the workflow on the same workflow state, keeping the submitter).
    Changes sent back under it ("needs changes") would restart the old task
    when resubmitted, so their workflow is cancelled: the draft stays and the
    expert submits it again. Idempotent.
    """
    from wagtail.models import GroupApprovalTask, WorkflowState, WorkflowTask

    for legacy in GroupApprovalTask.objects.filter(name=LEGACY_REVIEW_TASK_NAME):
        removed, _rows = WorkflowTask.objects.filter(
            workflow=workflow, task=legacy
        ).delete()
        if WorkflowTask.objects.filter(task=legacy).exists():
            continue  # still used by a workflow set up by hand; leave it
        if not removed and not legacy.active:
            continue  # retired before
        for state in WorkflowState.objects.filter(
            status=WorkflowState.STATUS_NEEDS_CHANGES,
            current_task_state__task=legacy,
        ):
            state.cancel()
        if legacy.active:
            # Cancels its in-progress task states; each workflow moves on to
            # ``task``, the next active task.
            legacy.deactivate()
        logger.info(
            "course_review.legacy_task_retired",
            extra={"legacy_task_id": legacy.pk, "task_id": task.pk},
        )


@transaction.atomic
def course_workflow_ensure() -> None:
    """Create the review workflow and the programme groups' page permissions
    (idempotent). Attached to the catalogue once it exists."""
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import (
        Collection,
        GroupCollectionPermission,
        GroupPagePermission,
        Workflow,
        WorkflowPage,
    )

    from organizations.models import COORDINATOR_GROUP_NAME, EXPERT_GROUP_NAME
    from organizations.services import groups_ensure

    from .models import CourseIndexPage

    groups_ensure(
        extra={
            COORDINATOR_GROUP_NAME: [
                "courses.view_enrollment",
                "courses.view_lessonprogress",
                "courses.view_quizattempt",
            ]
        }
    )
    index = CourseIndexPage.objects.first()
    if index is None:
        # Nothing to attach to yet; runs again when the catalogue is created.
        return
    coordinators = Group.objects.get(name=COORDINATOR_GROUP_NAME)
    experts = Group.objects.get(name=EXPERT_GROUP_NAME)

    workflow, _created = Workflow.objects.get_or_create(
        name=WORKFLOW_NAME, defaults={"active": True}
    )
    task = _review_task_ensure(workflow)
    _legacy_review_task_retire(workflow, task)

    root_collection = Collection.get_first_root_node()
    if root_collection is not None:
        for dotted in EXPERT_COLLECTION_PERMISSIONS:
            app_label, codename = dotted.split(".")
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                for group in (experts, coordinators):
                    GroupCollectionPermission.objects.get_or_create(
                        group=group, collection=root_collection, permission=permission
                    )

    WorkflowPage.objects.update_or_create(page=index, defaults={"workflow": workflow})
    for codename in COORDINATOR_PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=coordinators, page=index, permission=_page_permission(codename)
        )
    for course in CoursePage.objects.select_related("publisher"):
        course_permissions_sync(course=course)


@transaction.atomic
def course_page_add(
    *, parent, page, user=None, publish: bool = True, published_by=None
):
    """Add a catalogue, track, course, module or lesson page under ``parent``.

    For trusted callers (demo data, imports): ``user`` authors the revision,
    ``published_by`` (default ``user``) publishes it without the admin's
    permission checks. ``publish=False`` leaves a draft; submit it with
    ``page_submit_for_review``. Course pages get their experts-group
    permissions at once.
    """
    parent.add_child(instance=page)
    revision = page.save_revision(user=user, log_action=True)
    if publish:
        revision.publish(user=published_by or user, skip_permission_checks=True)
        page.refresh_from_db()
    if isinstance(page, CoursePage):
        course_permissions_sync(course=page)
    elif isinstance(page, CourseIndexPage):
        course_workflow_ensure()
    return page


@transaction.atomic
def page_submit_for_review(*, page, user):
    """Start the page's moderation workflow (the expert's "Submit" button)."""
    workflow = page.get_workflow()
    if workflow is None:
        raise ValidationError(
            _("No review workflow applies to this page."), code="no_workflow"
        )
    if page.workflow_in_progress:
        return page.current_workflow_state
    if page.latest_revision is None:
        page.save_revision(user=user)
    return workflow.start(page, user)
