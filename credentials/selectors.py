"""Reads across credentials, certificates, people and companies."""

from __future__ import annotations

from django.db.models import QuerySet

from organizations.models import Company, Membership, Role
from organizations.permissions import (
    companies_with_role,
    has_role_in_company,
    is_coordinator,
)
from users.models import User

from .models import CompetenceScope, ProficiencyResult


def _company_wide(user, company: Company) -> bool:
    from .permissions import _partner_expert

    return (
        is_coordinator(user)
        or has_role_in_company(user, company, Role.HR)
        or _partner_expert(user, company)
    )


def _current_members(company: Company) -> QuerySet[User]:
    member_ids = Membership.objects.active().filter(company=company).values("user_id")
    return User.objects.filter(pk__in=member_ids, is_active=True)


def proficiency_publisher_holders(*, user, company: Company) -> QuerySet[User]:
    """Current members of ``company`` who hold a current certificate of a
    scoped course published by an enterprise where ``user`` is an expert."""
    from certificates.models import Certificate

    publishers = companies_with_role(user, Role.EXPERT)
    if not publishers:
        return User.objects.none()
    holder_ids = (
        Certificate.objects.current()
        .filter(
            revoked_at__isnull=True,
            course__publisher_id__in=publishers,
            course__competence_scopes__isnull=False,
        )
        .values("user_id")
    )
    return _current_members(company).filter(pk__in=holder_ids)


def proficiency_people_for(*, user, company: Company) -> QuerySet[User]:
    """Whom ``user`` may record a proficiency failure for in ``company``."""
    if _company_wide(user, company):
        people = _current_members(company)
    else:
        people = proficiency_publisher_holders(user=user, company=company)
    return people.order_by("name", "pk")


def proficiency_scopes_for(*, user, company: Company) -> QuerySet[CompetenceScope]:
    scopes = CompetenceScope.objects.select_related(
        "course", "procedure_revision__procedure"
    ).order_by("course__title", "pk")
    if _company_wide(user, company):
        return scopes
    return scopes.filter(
        course__publisher_id__in=companies_with_role(user, Role.EXPERT)
    )


def proficiency_result_list_for_company(
    *, user, company: Company
) -> QuerySet[ProficiencyResult]:
    """The company's recorded failures that ``user`` may see (one query)."""
    results = ProficiencyResult.objects.filter(company=company).select_related(
        "user", "scope__course", "scope__procedure_revision__procedure"
    )
    if not _company_wide(user, company):
        results = results.filter(
            scope__course__publisher_id__in=companies_with_role(user, Role.EXPERT)
        )
    return results


def proficiency_company_list_for_user(*, user) -> list[Company]:
    """Companies whose proficiency page ``user`` may open without a link:
    every company for coordinators; HR's own companies; for experts, their
    own lead enterprise and its active partner SMEs."""
    from django.db.models import Q

    from organizations.models import Partnership

    if is_coordinator(user):
        return list(Company.objects.order_by("name"))
    hr_of = companies_with_role(user, Role.HR)
    experts_of = companies_with_role(user, Role.EXPERT)
    partner_ids = Partnership.objects.active().filter(
        Q(lead_id__in=experts_of) | Q(sme_id__in=experts_of)
    )
    ids = set(hr_of) | set(experts_of)
    for lead_id, sme_id in partner_ids.values_list("lead_id", "sme_id"):
        ids |= {lead_id, sme_id}
    return list(Company.objects.filter(pk__in=ids).order_by("name"))
