"""Who may do what with visit requests, visits and calendar feeds.

Built on the shared predicates in ``organizations.permissions``. The "lead
enterprise's own coordinator" is the HR of a lead enterprise: they may
schedule their own experts for their partner SMEs.
"""

from __future__ import annotations

from organizations.models import Company, CompanyKind, Partnership, Role
from organizations.permissions import (
    companies_with_role,
    has_role_in_company,
    is_coordinator,
    is_member_of,
    visit_requester_company_ids,
)

from .models import CalendarFeedToken, FeedKind, Visit, VisitRequest, VisitStatus


def _lead_partners_of(company_id: int) -> set[int]:
    return set(
        Partnership.objects.active()
        .filter(sme_id=company_id)
        .values_list("lead_id", flat=True)
    )


def is_lead_coordinator_for(user, sme: Company | int) -> bool:
    """HR of a lead enterprise in an active partnership with ``sme``."""
    sme_id = sme if isinstance(sme, int) else sme.pk
    hr_leads = set(companies_with_role(user, Role.HR))
    return bool(hr_leads & _lead_partners_of(sme_id))


def is_expert(user) -> bool:
    return bool(companies_with_role(user, Role.EXPERT))


def requester_company_ids(user) -> set[int]:
    """Companies whose visits ``user`` may request: as HR or as a permitted learner."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(companies_with_role(user, Role.HR)) | visit_requester_company_ids(user)


def can_request_visit(user, company: Company) -> bool:
    """HR of an SME, or a learner HR has allowed to, asks for a visit.

    The partnership is checked by the service, which names the problem.
    """
    if company.kind != CompanyKind.SME or not company.is_active:
        return False
    return is_coordinator(user) or company.pk in requester_company_ids(user)


def can_grant_visit_requests(user, company: Company) -> bool:
    """HR of an SME decides which of its learners may request visits."""
    return (
        company.kind == CompanyKind.SME
        and company.is_active
        and (is_coordinator(user) or has_role_in_company(user, company, Role.HR))
    )


def can_view_visit_request(user, visit_request: VisitRequest) -> bool:
    if is_coordinator(user) or visit_request.requested_by_id == getattr(
        user, "pk", None
    ):
        return True
    return has_role_in_company(
        user, visit_request.company_id, Role.HR
    ) or is_lead_coordinator_for(user, visit_request.company_id)


def can_edit_visit_request(user, visit_request: VisitRequest) -> bool:
    """The requesting side answers questions or withdraws the request."""
    return visit_request.is_open and (
        visit_request.requested_by_id == getattr(user, "pk", None)
        or has_role_in_company(user, visit_request.company_id, Role.HR)
    )


def can_decide_visit_request(user, visit_request: VisitRequest) -> bool:
    """Approve, decline or ask for more information."""
    return is_coordinator(user) or is_lead_coordinator_for(
        user, visit_request.company_id
    )


def can_schedule_for(user, *, host_company: Company, lead_company_id: int) -> bool:
    """Propose a visit by an expert of ``lead_company_id`` at ``host_company``."""
    if is_coordinator(user):
        return True
    return has_role_in_company(
        user, lead_company_id, Role.HR
    ) and lead_company_id in _lead_partners_of(host_company.pk)


def can_view_board(user) -> bool:
    """Programme coordinators and lead enterprises' HR (their coordinators)."""
    if is_coordinator(user):
        return True
    return Company.objects.filter(
        pk__in=companies_with_role(user, Role.HR), kind=CompanyKind.LEAD
    ).exists()


def can_manage_visit(user, visit: Visit) -> bool:
    """Reschedule, cancel, publish, change capacity."""
    if is_coordinator(user):
        return True
    if visit.lead_company_id and has_role_in_company(
        user, visit.lead_company_id, Role.HR
    ):
        return True
    return False


def can_respond_to_visit(user, visit: Visit) -> bool:
    """Accept or decline a tentative visit: the expert it is proposed to."""
    return (
        visit.expert_id is not None
        and visit.expert_id == getattr(user, "pk", None)
        and visit.status == VisitStatus.TENTATIVE
    )


def can_view_visit(user, visit: Visit) -> bool:
    if visit.published and visit.status in (
        VisitStatus.CONFIRMED,
        VisitStatus.COMPLETED,
    ):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if is_coordinator(user) or visit.expert_id == user.pk:
        return True
    if has_role_in_company(user, visit.host_company_id, Role.HR):
        return True
    if can_manage_visit(user, visit):
        return True
    return visit.registrations.filter(user=user).exists()


def can_register_participants(user, visit: Visit, company: Company) -> bool:
    """HR registers their own company's employees; learners register themselves."""
    if visit.status not in (VisitStatus.TENTATIVE, VisitStatus.CONFIRMED):
        return False
    if company.pk != visit.host_company_id:
        return False
    return is_coordinator(user) or has_role_in_company(user, company, Role.HR)


def can_register_self(user, visit: Visit) -> bool:
    return visit.status in (
        VisitStatus.TENTATIVE,
        VisitStatus.CONFIRMED,
    ) and is_member_of(user, visit.host_company_id)


def can_mark_attendance(user, visit: Visit) -> bool:
    return is_coordinator(user) or (
        visit.expert_id is not None and visit.expert_id == getattr(user, "pk", None)
    )


def can_file_report(user, visit: Visit) -> bool:
    return visit.expert_id is not None and visit.expert_id == getattr(user, "pk", None)


def can_view_report(user, visit: Visit) -> bool:
    return (
        is_coordinator(user)
        or visit.expert_id == getattr(user, "pk", None)
        or has_role_in_company(user, visit.host_company_id, Role.HR)
        or can_manage_visit(user, visit)
    )


def can_rate_visit(user, visit: Visit) -> bool:
    return visit.status == VisitStatus.COMPLETED and has_role_in_company(
        user, visit.host_company_id, Role.HR
    )


def can_record_assessment(user, visit: Visit) -> bool:
    return visit.topic.expects_practical_assessment and can_mark_attendance(user, visit)


def can_manage_feed_token(user, token: CalendarFeedToken) -> bool:
    if is_coordinator(user):
        return True
    if token.kind == FeedKind.EXPERT:
        return token.expert_id == getattr(user, "pk", None)
    return has_role_in_company(user, token.company_id, Role.HR)


def can_create_company_feed(user, company: Company) -> bool:
    return is_coordinator(user) or has_role_in_company(user, company, Role.HR)


def is_sme_hr(user) -> bool:
    """HR of at least one SME: sees "our visits" and may request visits."""
    hr_companies = companies_with_role(user, Role.HR)
    return (
        bool(hr_companies)
        and Company.objects.filter(pk__in=hr_companies, kind=CompanyKind.SME).exists()
    )
