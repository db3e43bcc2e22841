"""Who may do what with courses, lessons and enrolments (pure predicates)."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from organizations.models import Membership, Partnership, Role
from organizations.permissions import (
    can_author_for_company,
    companies_with_role,
    is_coordinator,
    is_course_reviewer,
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


# --- review of course changes (branch h-reviewers) -----------------------------


def course_publisher_id_of(page) -> int | None:
    """The publisher of the course ``page`` belongs to (itself included);
    ``None`` for the catalogue and track pages."""
    if page is None:
        return None
    if isinstance(page, CoursePage):
        return page.publisher_id
    return (
        CoursePage.objects.ancestor_of(page, inclusive=True)
        .values_list("publisher_id", flat=True)
        .first()
    )


def can_review_course(user, publisher_id: int | None) -> bool:
    """Moderate changes to courses of ``publisher_id``: coordinators, and the
    enterprise's active reviewers. Only coordinators review pages outside a
    course (catalogue, tracks)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if is_coordinator(user):
        return True
    return publisher_id is not None and is_course_reviewer(user, publisher_id)


def course_review_authors(task_state, page) -> set[int]:
    """Who made the change under review: the submitter, and the author of
    every revision of the page since its live revision (all revisions of a
    page never published) — the submitted and the latest revision included."""
    from wagtail.models import Revision

    authors = {task_state.workflow_state.requested_by_id}
    revisions = Revision.objects.page_revisions().filter(object_id=str(page.pk))
    if page.live_revision_id:
        revisions = revisions.filter(
            Q(pk__gt=page.live_revision_id) | Q(pk=task_state.revision_id)
        )
    authors |= set(revisions.values_list("user_id", flat=True))
    return authors - {None}


def can_decide_course_review(user, task_state, *, page=None) -> bool:
    """Approve or reject ``task_state``: a moderator of the task state's own
    page who neither submitted nor wrote the change (four eyes). Superusers
    are exempt from four eyes. ``page``, when given, must be that page."""
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Page, TaskState, WorkflowState

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    workflow_state = task_state.workflow_state
    if (
        task_state.status != TaskState.STATUS_IN_PROGRESS
        or workflow_state.status != WorkflowState.STATUS_IN_PROGRESS
        or workflow_state.base_content_type_id
        != ContentType.objects.get_for_model(Page).pk
    ):
        return False
    if page is not None and str(page.pk) != workflow_state.object_id:
        return False
    state_page = Page.objects.filter(pk=workflow_state.object_id).first()
    if state_page is None:
        return False
    if user.is_superuser:
        return True
    if not can_review_course(user, course_publisher_id_of(state_page)):
        return False
    return user.pk not in course_review_authors(task_state, state_page)
