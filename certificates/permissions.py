"""Who may do what with certificates. Pure predicates."""

from __future__ import annotations

from organizations.models import Membership, Role
from organizations.permissions import (
    can_view_company_people,
    has_role_in_company,
    is_coordinator,
)


def can_download_certificate(user, certificate) -> bool:
    """The holder; coordinators; HR of the company named on the certificate
    while the holder is still a member of it."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if certificate.user_id == user.pk or is_coordinator(user):
        return True
    if certificate.company_id is None:
        return False
    if not has_role_in_company(user, certificate.company_id, Role.HR):
        return False
    return (
        Membership.objects.active()
        .filter(user_id=certificate.user_id, company_id=certificate.company_id)
        .exists()
    )


def can_download_company_certificates(user, company) -> bool:
    return can_view_company_people(user, company)


def can_issue_certificate(user) -> bool:
    return is_coordinator(user)


def can_revoke_certificate(user, certificate) -> bool:
    return is_coordinator(user)


def can_manage_certificate_designs(user) -> bool:
    return is_coordinator(user)
