"""Visit-based pass rules for courses (provider for ``courses.requirements``).

A course may require "attended a visit on topic X" or "passed a practical
assessment on topic X" (``CourseVisitRequirement`` rows, edited as a snippet).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from courses.requirements import RequirementStatus, register_completion_requirement

from .models import (
    CourseVisitRequirement,
    PracticalAssessment,
    Registration,
    RegistrationStatus,
    RequirementKind,
    VisitStatus,
)

COUNTED_VISIT_STATUSES = (VisitStatus.CONFIRMED, VisitStatus.COMPLETED)


def requirement_met(*, user_id: int, requirement: CourseVisitRequirement) -> bool:
    if requirement.kind == RequirementKind.ASSESSMENT_PASSED:
        return PracticalAssessment.objects.filter(
            user_id=user_id,
            passed=True,
            visit__topic_id=requirement.topic_id,
            visit__status__in=COUNTED_VISIT_STATUSES,
        ).exists()
    return Registration.objects.filter(
        user_id=user_id,
        status=RegistrationStatus.REGISTERED,
        attended=True,
        visit__topic_id=requirement.topic_id,
        visit__status__in=COUNTED_VISIT_STATUSES,
    ).exists()


def requirement_label(requirement: CourseVisitRequirement) -> str:
    if requirement.kind == RequirementKind.ASSESSMENT_PASSED:
        return _("Pass the practical assessment on “%(topic)s” during a visit") % {
            "topic": requirement.topic.name
        }
    return _("Attend an expert visit on “%(topic)s”") % {
        "topic": requirement.topic.name
    }


@register_completion_requirement
def visit_requirements(enrollment) -> list[RequirementStatus]:
    requirements = CourseVisitRequirement.objects.filter(
        course_id=enrollment.course_id
    ).select_related("topic")
    return [
        RequirementStatus(
            label=requirement_label(requirement),
            met=requirement_met(user_id=enrollment.user_id, requirement=requirement),
        )
        for requirement in requirements
    ]


def recheck_courses_for(*, user, topic) -> list[int]:
    """Ask courses to re-evaluate the user's enrolments that need ``topic``.

    Returns the ids of courses that are complete afterwards.
    """
    from courses.models import Enrollment, EnrollmentStatus
    from courses.services import enrollment_recheck_completion

    course_ids = set(
        CourseVisitRequirement.objects.filter(topic=topic).values_list(
            "course_id", flat=True
        )
    )
    if not course_ids:
        return []
    completed = []
    enrollments = Enrollment.objects.filter(
        user=user, course_id__in=course_ids, status=EnrollmentStatus.ACTIVE
    ).select_related("course")
    for enrollment in enrollments:
        if enrollment_recheck_completion(user=user, course=enrollment.course):
            completed.append(enrollment.course_id)
    return completed
