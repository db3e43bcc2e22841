"""Who may do what with credentials. Pure predicates."""

from __future__ import annotations

from certificates.permissions import can_download_certificate
from organizations.models import Company, Role
from organizations.permissions import (
    are_partners,
    companies_with_role,
    has_role_in_company,
    is_coordinator,
)


def can_download_credential(user, certificate) -> bool:
    """Whoever may download the certificate's PDF."""
    return can_download_certificate(user, certificate)


def _expert_companies(user) -> list[int]:
    return companies_with_role(user, Role.EXPERT)


def can_record_procedure_revision(user, procedure) -> bool:
    """Coordinators, and experts of a lead enterprise that publishes a course
    whose competence scope names the procedure (the publishing enterprise)."""
    if is_coordinator(user):
        return True
    experts_of = _expert_companies(user)
    if not experts_of:
        return False
    from .models import CompetenceScope

    return CompetenceScope.objects.filter(
        procedure_revision__procedure=procedure,
        course__publisher_id__in=experts_of,
    ).exists()


def _partner_expert(user, company: Company) -> bool:
    """Expert of the company itself or of an active partner lead enterprise."""
    return any(
        own == company.pk or are_partners(own, company)
        for own in _expert_companies(user)
    )


def can_record_proficiency_result(user, *, company: Company, scope) -> bool:
    """Record a failed PT/ILC for a member of ``company`` in ``scope``:
    coordinators; HR of the company; experts of the company or of an active
    partner lead enterprise; experts of the enterprise publishing the scope's
    course."""
    if is_coordinator(user) or has_role_in_company(user, company, Role.HR):
        return True
    if _partner_expert(user, company):
        return True
    publisher_id = getattr(scope.course, "publisher_id", None)
    return publisher_id is not None and has_role_in_company(
        user, publisher_id, Role.EXPERT
    )


def can_record_proficiency_for_company(user, company: Company) -> bool:
    """Open the company's proficiency page: as above, where experts of a
    publishing enterprise need a member of the company who holds a current
    certificate of one of their courses (they then see only those people)."""
    if is_coordinator(user) or has_role_in_company(user, company, Role.HR):
        return True
    if _partner_expert(user, company):
        return True
    from .selectors import proficiency_publisher_holders

    return proficiency_publisher_holders(user=user, company=company).exists()
