from __future__ import annotations

from django.db.models import QuerySet

from users.models import User

from .models import Company, Invitation, Membership, Role


def membership_list_for_user(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("company")
        .order_by("ended_on", "company__name")
    )


def company_list_for_hr(*, user: User) -> QuerySet[Company]:
    from .permissions import is_coordinator

    if is_coordinator(user):
        return Company.objects.filter(is_active=True)
    return Company.objects.filter(
        pk__in=Membership.objects.active()
        .filter(user=user, role=Role.HR)
        .values("company_id"),
        is_active=True,
    )


def company_member_list(
    *, company: Company, search: str = "", department: str = "", role: str = ""
) -> QuerySet[Membership]:
    """The company's current members, for HR (caller checks permission)."""
    members = (
        Membership.objects.active()
        .filter(company=company)
        .select_related("user")
        .order_by("department", "employee_number", "user__name")
    )
    if search:
        from django.db.models import Q

        members = members.filter(
            Q(user__name__icontains=search)
            | Q(user__email__icontains=search)
            | Q(employee_number__icontains=search)
        )
    if department:
        members = members.filter(department=department)
    if role:
        members = members.filter(role=role)
    return members


def company_department_list(*, company: Company) -> list[str]:
    return list(
        Membership.objects.active()
        .filter(company=company)
        .exclude(department="")
        .order_by("department")
        .values_list("department", flat=True)
        .distinct()
    )


def invitation_list_for_company(*, company: Company) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(company=company)
        .select_related("invited_by", "accepted_by")
        .order_by("-created_at")
    )


def invitation_get_by_token(*, token: str) -> Invitation | None:
    return Invitation.objects.select_related("company").filter(token=token).first()
