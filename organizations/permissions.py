"""Who may do what with companies and their people.

Every view, export and admin viewset asks these predicates (or the matching
``for_user()`` queryset methods) so tenant isolation lives in one place.
Predicates are pure: they read, never write, and answer ``False`` for
anonymous users.
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .models import (
    COORDINATOR_GROUP_NAME,
    COORDINATOR_ROLE,
    Company,
    CompanyKind,
    Membership,
    Partnership,
    Role,
)


def _cached(user, key: str, compute):
    # Predicates are asked many times per request; memoise on the user object.
    store = user.__dict__.setdefault("_academy_permission_cache", {})
    if key not in store:
        store[key] = compute()
    return store[key]


def is_coordinator(user) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return _cached(
        user,
        "coordinator",
        lambda: user.groups.filter(name=COORDINATOR_GROUP_NAME).exists(),
    )


def _active_memberships(
    user,
) -> tuple[dict[int, frozenset[str]], frozenset[int], frozenset[int]]:
    """Roles per company, the companies where a learner may request visits and
    the companies whose course changes the user may review.

    One query serves all three, so the navigation and every predicate of a
    request share it.
    """

    def compute():
        roles: dict[int, set[str]] = {}
        requesters: set[int] = set()
        reviewers: set[int] = set()
        for company_id, role, may_request_visits, may_review, kind in (
            Membership.objects.active()
            .filter(user=user)
            .values_list(
                "company_id",
                "role",
                "may_request_visits",
                "may_review_courses",
                "company__kind",
            )
        ):
            roles.setdefault(company_id, set()).add(role)
            if role == Role.LEARNER and may_request_visits:
                requesters.add(company_id)
            if role == Role.EXPERT and may_review and kind == CompanyKind.LEAD:
                reviewers.add(company_id)
        return (
            {key: frozenset(value) for key, value in roles.items()},
            frozenset(requesters),
            frozenset(reviewers),
        )

    return _cached(user, "memberships", compute)


def _active_roles_by_company(user) -> dict[int, frozenset[str]]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return {}
    return _active_memberships(user)[0]


def visit_requester_company_ids(user) -> frozenset[int]:
    """Companies where ``user`` is a learner that HR allowed to request visits."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    return _active_memberships(user)[1]


def course_reviewer_company_ids(user) -> frozenset[int]:
    """Lead enterprises whose course changes ``user`` may review: those where
    they hold an active expert membership flagged ``may_review_courses``."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    return _active_memberships(user)[2]


def is_course_reviewer(user, company: Company | int) -> bool:
    company_id = company if isinstance(company, int) else company.pk
    return company_id in course_reviewer_company_ids(user)


def clear_permission_cache(user) -> None:
    user.__dict__.pop("_academy_permission_cache", None)


def user_roles(user) -> set[str]:
    """Every role the user holds anywhere, plus ``coordinator``."""
    if not getattr(user, "is_authenticated", False):
        return set()
    roles: set[str] = set()
    for company_roles in _active_roles_by_company(user).values():
        roles |= company_roles
    if is_coordinator(user):
        roles.add(COORDINATOR_ROLE)
    return roles


def has_role_in_company(user, company: Company | int, role: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    company_id = company if isinstance(company, int) else company.pk
    return role in _active_roles_by_company(user).get(company_id, frozenset())


def companies_with_role(user, role: str) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [
        company_id
        for company_id, roles in _active_roles_by_company(user).items()
        if role in roles
    ]


def is_member_of(user, company: Company | int) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    company_id = company if isinstance(company, int) else company.pk
    return company_id in _active_roles_by_company(user)


def are_partners(company_a: Company | int, company_b: Company | int) -> bool:
    a = company_a if isinstance(company_a, int) else company_a.pk
    b = company_b if isinstance(company_b, int) else company_b.pk
    return (
        Partnership.objects.active()
        .filter(Q(lead_id=a, sme_id=b) | Q(lead_id=b, sme_id=a))
        .exists()
    )


# --- predicates ----------------------------------------------------------


def can_view_company(user, company: Company) -> bool:
    """See a company's profile: coordinators, members and partners' members."""
    if is_coordinator(user):
        return True
    if is_member_of(user, company):
        return True
    return any(are_partners(own, company) for own in _active_roles_by_company(user))


def can_manage_company(user, company: Company) -> bool:
    """Edit the company record itself: programme coordinators only."""
    return is_coordinator(user)


def can_manage_partnerships(user) -> bool:
    return is_coordinator(user)


def can_view_company_people(user, company: Company) -> bool:
    """See the company's employees, their progress and certificates."""
    return is_coordinator(user) or has_role_in_company(user, company, Role.HR)


def can_view_company_report(user, company: Company) -> bool:
    return can_view_company_people(user, company)


def can_invite_to_company(user, company: Company) -> bool:
    if not company.is_active:
        return False
    return is_coordinator(user) or has_role_in_company(user, company, Role.HR)


def can_manage_membership(user, membership: Membership) -> bool:
    return can_invite_to_company(user, membership.company)


def can_view_member(user, member) -> bool:
    """HR sees a person only while that person is a member of HR's company."""
    if user == member or is_coordinator(user):
        return True
    hr_companies = companies_with_role(user, Role.HR)
    if not hr_companies:
        return False
    return (
        Membership.objects.active()
        .filter(user=member, company_id__in=hr_companies)
        .exists()
    )


def can_set_course_reviewer(user, membership: Membership) -> bool:
    """Name or un-name a course reviewer: coordinators, and HR of the
    membership's own (active) company."""
    return can_manage_membership(user, membership)


def can_author_for_company(user, company: Company) -> bool:
    """Write lessons for a lead enterprise's courses: its experts."""
    if is_coordinator(user):
        return True
    return company.is_lead and has_role_in_company(user, company, Role.EXPERT)


def role_labels() -> dict[str, str]:
    return {**dict(Role.choices), COORDINATOR_ROLE: _("Coordinator")}
