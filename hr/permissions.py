"""Who may use the HR workspace. Pure predicates over the shared ones in
``organizations.permissions`` so tenant isolation stays in one place."""

from __future__ import annotations

from organizations.models import Company, Membership
from organizations.permissions import can_invite_to_company, can_view_company_people


def can_view_company_dashboard(user, company: Company) -> bool:
    return can_view_company_people(user, company)


def can_export_company_reports(user, company: Company) -> bool:
    return can_view_company_people(user, company)


def can_import_people(user, company: Company) -> bool:
    return can_invite_to_company(user, company)


def can_assign_courses(user, company: Company) -> bool:
    return can_invite_to_company(user, company)


def can_view_employee(user, company: Company, membership: Membership | None) -> bool:
    """HR of ``company`` sees a person only while they are a member of it."""
    if membership is None or membership.company_id != company.pk:
        return False
    return membership.is_active and can_view_company_people(user, company)


def can_download_export(user, job) -> bool:
    return job.requested_by_id is not None and can_view_company_people(
        user, job.company
    )


def can_view_competence_matrix(user, company: Company) -> bool:
    return can_view_company_people(user, company)


def can_manage_auditor_links(user, company: Company) -> bool:
    """HR of the company (and coordinators) create, see and revoke links."""
    return can_invite_to_company(user, company)


def can_manage_auditor_link(user, link) -> bool:
    return can_manage_auditor_links(user, link.company)
