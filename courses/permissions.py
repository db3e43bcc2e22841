"""Who may do what with courses, lessons and enrolments (pure predicates)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from organizations.models import Membership, Partnership, Role
from organizations.permissions import (
    can_author_for_company,
    companies_with_role,
    is_coordinator,
)

from .models import CoursePage, Enrollment, EnrollmentPolicy, EnrollmentStatus

ENROL_LOGIN_REQUIRED = _("Log in to enrol in a course.")
ENROL_NOT_LIVE = _("This course is not published.")
ENROL_PARTNERS_ONLY = _(
    "This course is open only to staff of %(publisher)s and its partner SMEs."
)
ENROL_PREREQUISITES = _("Complete these courses first: %(courses)s.")


def _user_company_ids(user) -> set[int]:
    return set(
        Membership.objects.active()
        .filter(user=user)
        .values_list("company_id", flat=True)
    )


def enrol_refusal(user, course: CoursePage) -> str | None:
    """Why ``user`` may not enrol in ``course``; ``None`` when they may."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return str(ENROL_LOGIN_REQUIRED)
    if not course.live:
        return str(ENROL_NOT_LIVE)
    if course.enrollment_policy == EnrollmentPolicy.PARTNERS and not is_coordinator(
        user
    ):
        own = _user_company_ids(user)
        partners = set(
            Partnership.objects.active()
            .filter(lead_id=course.publisher_id)
            .values_list("sme_id", flat=True)
        )
        if not own & (partners | {course.publisher_id}):
            return str(ENROL_PARTNERS_ONLY % {"publisher": course.publisher})
    required = [p.required_course for p in course.prerequisites.all()]
    if required:
        done = set(
            Enrollment.objects.filter(
                user=user,
                course__in=required,
                status=EnrollmentStatus.COMPLETED,
            ).values_list("course_id", flat=True)
        )
        missing = [c.title for c in required if c.pk not in done]
        if missing:
            return str(ENROL_PREREQUISITES % {"courses": "、".join(missing)})
    return None


def can_enrol_in_course(user, course: CoursePage) -> bool:
    return enrol_refusal(user, course) is None


def can_edit_course(user, course: CoursePage) -> bool:
    """Author or edit a course and its lessons in the Wagtail admin."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_coordinator(user):
        return True
    return can_author_for_company(user, course.publisher)


def can_view_enrollment(user, enrollment: Enrollment) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if enrollment.user_id == user.pk or is_coordinator(user):
        return True
    hr_companies = companies_with_role(user, Role.HR)
    return (
        bool(hr_companies)
        and Membership.objects.active()
        .filter(user_id=enrollment.user_id, company_id__in=hr_companies)
        .exists()
    )
