"""A course that requires a visit completes when the last condition holds."""

from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import Enrollment, EnrollmentStatus, LessonProgress
from courses.requirements import external_requirements
from courses.services import enrollment_create
from courses.signals import course_completed
from dispatch import services
from dispatch.models import CourseVisitRequirement, RequirementKind, Visit
from tests.courses import factories as course_factories


@pytest.fixture
def course(world, home_page):
    track = course_factories.track(home_page)
    return course_factories.course(track_page=track, publisher=world.lead)


def _finish_lessons(enrollment):
    now = timezone.now()
    for lesson in course_factories.lessons_of(enrollment.course):
        LessonProgress.objects.update_or_create(
            enrollment=enrollment,
            lesson=lesson,
            defaults={
                "first_seen_at": now,
                "last_seen_at": now,
                "completed_at": now,
                "active_seconds": 600,
            },
        )


def _started(visit):
    start = timezone.now() - timedelta(minutes=30)
    Visit.objects.filter(pk=visit.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3)
    )
    visit.refresh_from_db()
    return visit


def test_attendance_completes_course(
    world, dispatch, course, confirmed_visit, django_capture_on_commit_callbacks
):
    CourseVisitRequirement.objects.create(
        course=course, topic=dispatch.topic, kind=RequirementKind.ATTENDED
    )
    enrollment = enrollment_create(user=world.learner, course=course)
    _finish_lessons(enrollment)
    services.visit_register(
        visit=confirmed_visit, participant=world.learner, registered_by=world.hr
    )
    statuses = external_requirements(enrollment)
    assert [s.met for s in statuses] == [False]
    assert "压力表检定与校准" in statuses[0].label
    from courses.services import enrollment_recheck_completion

    assert not enrollment_recheck_completion(user=world.learner, course=course)
    received = []

    def listener(sender, enrollment, **kwargs):
        received.append(enrollment.pk)

    course_completed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.attendance_mark(
                visit=_started(confirmed_visit),
                user=world.expert,
                attended_user_ids=[world.learner.pk],
            )
    finally:
        course_completed.disconnect(listener)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert received == [enrollment.pk]


def test_failed_assessment_does_not_complete(world, dispatch, course, propose):
    CourseVisitRequirement.objects.create(
        course=course, topic=dispatch.practical, kind=RequirementKind.ASSESSMENT_PASSED
    )
    enrollment = enrollment_create(user=world.learner, course=course)
    _finish_lessons(enrollment)
    visit = propose(topic=dispatch.practical)
    services.visit_accept(visit=visit, user=world.expert)
    services.visit_register(
        visit=visit, participant=world.learner, registered_by=world.hr
    )
    _started(visit)
    services.assessment_record(
        visit=visit, user=world.expert, participant=world.learner, passed=False
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE
    services.assessment_record(
        visit=visit, user=world.expert, participant=world.learner, passed=True
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED


def test_course_without_visit_requirement_unaffected(world, course):
    from dispatch.requirements import visit_requirements

    enrollment = enrollment_create(user=world.learner, course=course)
    assert visit_requirements(Enrollment.objects.get(pk=enrollment.pk)) == []
