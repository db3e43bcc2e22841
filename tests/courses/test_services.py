from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.utils import timezone

from courses import services
from courses.models import (
    CoursePrerequisite,
    Enrollment,
    EnrollmentEvent,
    EnrollmentPolicy,
    EnrollmentStatus,
    LessonProgress,
)
from courses.requirements import (
    RequirementStatus,
    register_completion_requirement,
    unregister_completion_requirement,
)
from courses.selectors import enrollment_active_seconds
from courses.signals import course_completed

from . import factories
from .conftest import backdate

pytestmark = pytest.mark.django_db


@pytest.fixture
def completions():
    received = []

    def receiver(sender, enrollment, **kwargs):
        received.append(enrollment)

    course_completed.connect(receiver)
    yield received
    course_completed.disconnect(receiver)


def study(user, lesson, seconds):
    """Open ``lesson`` and send heartbeats worth ``seconds``."""
    enrollment, progress = services.lesson_open(user=user, lesson=lesson)
    backdate(enrollment)
    while seconds > 0:
        delta = min(seconds, 2 * services.heartbeat_interval())
        services.heartbeat_record(user=user, lesson=lesson, delta_seconds=delta)
        seconds -= delta
    return enrollment


class TestEnrollment:
    def test_enrol_and_history(self, world, simple_course):
        enrollment = services.enrollment_create(
            user=world.learner, course=simple_course
        )
        assert enrollment.status == EnrollmentStatus.ACTIVE
        with pytest.raises(ValidationError, match="already enrolled"):
            services.enrollment_create(user=world.learner, course=simple_course)
        services.enrollment_withdraw(enrollment=enrollment, by=world.learner)
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.WITHDRAWN
        assert enrollment.withdrawn_at is not None
        again = services.enrollment_create(user=world.learner, course=simple_course)
        assert again.pk == enrollment.pk and again.status == EnrollmentStatus.ACTIVE
        kinds = list(
            EnrollmentEvent.objects.filter(enrollment=enrollment).values_list(
                "kind", flat=True
            )
        )
        assert kinds == ["enrolled", "withdrawn", "reenrolled"]

    def test_withdraw_keeps_progress(self, world, simple_course):
        lesson = factories.lessons_of(simple_course)[0]
        services.enrollment_create(user=world.learner, course=simple_course)
        enrollment = study(world.learner, lesson, 20)
        services.enrollment_withdraw(enrollment=enrollment, by=world.learner)
        assert LessonProgress.objects.get(enrollment=enrollment).active_seconds == 20
        with pytest.raises(PermissionDenied):
            services.heartbeat_record(
                user=world.learner, lesson=lesson, delta_seconds=5
            )
        services.enrollment_create(user=world.learner, course=simple_course)
        assert enrollment_active_seconds(enrollment) == 20

    def test_only_the_learner_withdraws(self, world, simple_course):
        enrollment = services.enrollment_create(
            user=world.learner, course=simple_course
        )
        with pytest.raises(PermissionDenied):
            services.enrollment_withdraw(enrollment=enrollment, by=world.hr)
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.ACTIVE

    def test_partners_only(self, world, pressure_track):
        course = factories.course(
            track_page=pressure_track,
            publisher=world.lead,
            policy=EnrollmentPolicy.PARTNERS,
        )
        assert services.enrollment_create(user=world.learner, course=course)
        with pytest.raises(ValidationError, match="partner SMEs"):
            services.enrollment_create(user=world.other_learner, course=course)
        assert not Enrollment.objects.filter(user=world.other_learner).exists()
        # The publisher's own staff may enrol.
        assert services.enrollment_create(user=world.lead_hr, course=course)

    def test_prerequisites(self, world, pressure_track, simple_course):
        advanced = factories.course(
            track_page=pressure_track, publisher=world.lead, title="期间核查"
        )
        CoursePrerequisite.objects.create(
            course=advanced, required_course=simple_course
        )
        with pytest.raises(ValidationError, match="Complete these courses first"):
            services.enrollment_create(user=world.learner, course=advanced)
        Enrollment.objects.create(
            user=world.learner,
            course=simple_course,
            status=EnrollmentStatus.COMPLETED,
            enrolled_at=simple_course.first_published_at,
            completed_at=simple_course.first_published_at,
        )
        assert services.enrollment_create(user=world.learner, course=advanced)

    def test_unpublished_course(self, world, simple_course):
        simple_course.unpublish()
        with pytest.raises(ValidationError, match="not published"):
            services.enrollment_create(user=world.learner, course=simple_course)


class TestHeartbeat:
    @pytest.fixture
    def opened(self, world, simple_course):
        services.enrollment_create(user=world.learner, course=simple_course)
        lesson = factories.lessons_of(simple_course)[0]
        enrollment, progress = services.lesson_open(user=world.learner, lesson=lesson)
        backdate(enrollment)
        return lesson, progress

    def test_adds_time_and_completes_lesson(self, world, opened):
        lesson, progress = opened
        services.heartbeat_record(user=world.learner, lesson=lesson, delta_seconds=15)
        progress.refresh_from_db()
        assert progress.active_seconds == 15 and progress.completed_at is None
        services.heartbeat_record(user=world.learner, lesson=lesson, delta_seconds="15")
        progress.refresh_from_db()
        assert progress.active_seconds == 30 and progress.completed_at is not None

    @pytest.mark.parametrize("delta", [0, -5, 31, 10_000, "abc", 1.5, None, True, [5]])
    def test_bad_deltas_change_nothing(self, world, opened, delta):
        lesson, progress = opened
        with pytest.raises(ValidationError, match="whole number of seconds"):
            services.heartbeat_record(
                user=world.learner, lesson=lesson, delta_seconds=delta
            )
        progress.refresh_from_db()
        assert progress.active_seconds == 0

    @pytest.mark.parametrize(
        ("position", "duration"), [(-1, 100), ("nan", 100), (10, "inf"), ("x", 5)]
    )
    def test_bad_video_values_change_nothing(self, world, opened, position, duration):
        lesson, progress = opened
        with pytest.raises(ValidationError, match="non-negative"):
            services.heartbeat_record(
                user=world.learner,
                lesson=lesson,
                delta_seconds=10,
                video_position=position,
                video_duration=duration,
            )
        progress.refresh_from_db()
        assert progress.active_seconds == 0

    def test_more_time_than_elapsed_is_refused(self, world, simple_course):
        services.enrollment_create(user=world.learner, course=simple_course)
        lesson = factories.lessons_of(simple_course)[0]
        services.lesson_open(user=world.learner, lesson=lesson)
        # Just opened: the budget is two intervals (30 s) of slack.
        services.heartbeat_record(user=world.learner, lesson=lesson, delta_seconds=30)
        with pytest.raises(ValidationError, match="More study time"):
            services.heartbeat_record(
                user=world.learner, lesson=lesson, delta_seconds=30
            )
        progress = LessonProgress.objects.get(lesson=lesson)
        assert progress.active_seconds == 30

    def test_clock_ahead_of_server_is_refused_not_crashed(self, world, simple_course):
        # A row first seen "in the future" (clock skew, bad import) leaves a
        # negative budget: the beat is refused like any implausible one.
        services.enrollment_create(user=world.learner, course=simple_course)
        lesson = factories.lessons_of(simple_course)[0]
        services.lesson_open(user=world.learner, lesson=lesson)
        LessonProgress.objects.filter(lesson=lesson).update(
            first_seen_at=timezone.now() + timedelta(hours=8)
        )
        with pytest.raises(ValidationError, match="More study time"):
            services.heartbeat_record(
                user=world.learner, lesson=lesson, delta_seconds=10
            )
        assert LessonProgress.objects.get(lesson=lesson).active_seconds == 0

    def test_not_enrolled(self, world, simple_course):
        lesson = factories.lessons_of(simple_course)[0]
        with pytest.raises(PermissionDenied, match="not enrolled"):
            services.heartbeat_record(
                user=world.other_learner, lesson=lesson, delta_seconds=10
            )
        assert not LessonProgress.objects.exists()

    def test_lesson_not_opened(self, world, simple_course):
        services.enrollment_create(user=world.learner, course=simple_course)
        lesson = factories.lessons_of(simple_course)[1]
        with pytest.raises(PermissionDenied):
            services.heartbeat_record(
                user=world.learner, lesson=lesson, delta_seconds=5
            )
        assert not LessonProgress.objects.exists()

    def test_video_watched_cannot_jump(self, world, opened):
        lesson, progress = opened
        services.heartbeat_record(
            user=world.learner,
            lesson=lesson,
            delta_seconds=10,
            video_position=290,
            video_duration=300,
        )
        progress.refresh_from_db()
        assert progress.video_position == 290
        assert progress.video_watched_seconds == 12  # delta + 2 s slack
        assert progress.video_duration == 300


class TestSequentialGating:
    def test_later_lessons_locked(self, world, pressure_track):
        course = factories.course(
            track_page=pressure_track, publisher=world.lead, sequential=True
        )
        first, second = factories.lessons_of(course)
        services.enrollment_create(user=world.learner, course=course)
        with pytest.raises(PermissionDenied, match="previous lessons"):
            services.lesson_open(user=world.learner, lesson=second)
        study(world.learner, first, 30)
        services.lesson_open(user=world.learner, lesson=second)


class TestCompletion:
    def test_course_completes_once_with_signal(
        self, world, simple_course, completions, django_capture_on_commit_callbacks
    ):
        first, second = factories.lessons_of(simple_course)
        services.enrollment_create(user=world.learner, course=simple_course)
        with django_capture_on_commit_callbacks(execute=True):
            study(world.learner, first, 30)
        assert completions == []
        with django_capture_on_commit_callbacks(execute=True):
            enrollment = study(world.learner, second, 40)
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.COMPLETED
        assert enrollment.completed_at is not None
        assert enrollment.score is None  # no quiz
        assert [e.pk for e in completions] == [enrollment.pk]
        assert enrollment_active_seconds(enrollment) == 70
        # More heartbeats and rechecks do not complete again.
        with django_capture_on_commit_callbacks(execute=True):
            services.heartbeat_record(
                user=world.learner, lesson=second, delta_seconds=5
            )
            assert services.enrollment_recheck_completion(
                user=world.learner, course=simple_course
            )
        assert len(completions) == 1

    def test_external_requirement_blocks_until_met(
        self, world, simple_course, completions, django_capture_on_commit_callbacks
    ):
        state = {"met": False}

        def provider(enrollment):
            if enrollment.course_id != simple_course.pk:
                return []
            return [RequirementStatus(label="参加现场指导", met=state["met"])]

        register_completion_requirement(provider)
        try:
            for lesson in factories.lessons_of(simple_course):
                if not Enrollment.objects.filter(user=world.learner).exists():
                    services.enrollment_create(user=world.learner, course=simple_course)
                study(world.learner, lesson, 30)
            enrollment = Enrollment.objects.get(user=world.learner)
            assert enrollment.status == EnrollmentStatus.ACTIVE
            assert not services.enrollment_recheck_completion(
                user=world.learner, course=simple_course
            )
            state["met"] = True
            with django_capture_on_commit_callbacks(execute=True):
                assert services.enrollment_recheck_completion(
                    user=world.learner, course=simple_course
                )
                assert services.enrollment_recheck_completion(
                    user=world.learner, course=simple_course
                )
            assert len(completions) == 1
            assert completions[0].status == EnrollmentStatus.COMPLETED
        finally:
            unregister_completion_requirement(provider)

    def test_recheck_without_enrollment(self, world, simple_course):
        assert not services.enrollment_recheck_completion(
            user=world.learner, course=simple_course
        )

    def test_completed_course_cannot_be_left(self, world, simple_course):
        services.enrollment_create(user=world.learner, course=simple_course)
        for lesson in factories.lessons_of(simple_course):
            enrollment = study(world.learner, lesson, 30)
        with pytest.raises(ValidationError, match="cannot be left"):
            services.enrollment_withdraw(enrollment=enrollment, by=world.learner)


def test_update_returning_matches_update_and_select(world, simple_course):
    from courses.services import _update_returning

    lesson = factories.lessons_of(simple_course)[0]
    services.enrollment_create(user=world.learner, course=simple_course)
    _enrollment, progress = services.lesson_open(user=world.learner, lesson=lesson)
    rows = _update_returning(
        LessonProgress.objects.filter(pk=progress.pk),
        {"active_seconds": F("active_seconds") + 7},
        ["active_seconds", "completed_at"],
    )
    assert [tuple(row) for row in rows] == [(7, None)]
    assert LessonProgress.objects.get(pk=progress.pk).active_seconds == 7
    # No row matched: nothing returned, nothing changed.
    assert (
        _update_returning(
            LessonProgress.objects.filter(pk=progress.pk, active_seconds__gt=100),
            {"active_seconds": F("active_seconds") + 7},
            ["active_seconds"],
        )
        == []
    )
    assert LessonProgress.objects.get(pk=progress.pk).active_seconds == 7


def test_reopening_a_lesson_writes_only_when_due(world, simple_course):
    from datetime import timedelta

    from django.utils import timezone

    lesson = factories.lessons_of(simple_course)[0]
    services.enrollment_create(user=world.learner, course=simple_course)
    enrollment, progress = services.lesson_open(user=world.learner, lesson=lesson)
    assert enrollment.last_lesson == lesson
    recent = timezone.now() - timedelta(seconds=10)
    LessonProgress.objects.filter(pk=progress.pk).update(last_seen_at=recent)
    services.lesson_open(user=world.learner, lesson=lesson)
    assert LessonProgress.objects.get(pk=progress.pk).last_seen_at == recent
    old = timezone.now() - services.LAST_SEEN_RESOLUTION - timedelta(seconds=1)
    LessonProgress.objects.filter(pk=progress.pk).update(last_seen_at=old)
    _enrollment, reopened = services.lesson_open(user=world.learner, lesson=lesson)
    assert LessonProgress.objects.get(pk=progress.pk).last_seen_at > old
    assert reopened.last_seen_at > old
    assert Enrollment.objects.get(pk=enrollment.pk).last_lesson_id == lesson.pk
