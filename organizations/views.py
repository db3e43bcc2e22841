from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .forms import InvitationForm, MemberFilterForm
from .models import Company, Invitation, Membership
from .permissions import can_invite_to_company, can_view_company_people
from .selectors import (
    company_department_list,
    company_list_for_hr,
    company_member_list,
    invitation_get_by_token,
    invitation_list_for_company,
)
from .services import (
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_end,
    membership_set_course_reviewer,
)


def _company_for_people(request, company_id: int) -> Company:
    company = get_object_or_404(Company, pk=company_id)
    if not can_view_company_people(request.user, company):
        raise PermissionDenied
    return company


@login_required
def my_companies(request):
    companies = list(company_list_for_hr(user=request.user))
    if len(companies) == 1:
        return redirect("hr:dashboard", company_id=companies[0].pk)
    if not companies:
        raise PermissionDenied
    return render(request, "organizations/my_companies.html", {"companies": companies})


@login_required
def company_people(request, company_id: int):
    company = _company_for_people(request, company_id)
    departments = company_department_list(company=company)
    filters = MemberFilterForm(request.GET or None, departments=departments)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    members = company_member_list(
        company=company,
        search=cleaned.get("q", ""),
        department=cleaned.get("department", ""),
        role=cleaned.get("role", ""),
    )
    page = Paginator(members, 50).get_page(request.GET.get("page"))
    invite_form = InvitationForm()
    if request.method == "POST":
        invite_form = InvitationForm(request.POST)
        if invite_form.is_valid():
            try:
                invitation = invitation_create(
                    invited_by=request.user, company=company, **invite_form.cleaned_data
                )
            except ValidationError as error:
                for message in error.messages:
                    invite_form.add_error("email", message)
            else:
                messages.success(
                    request,
                    _("An invitation has been sent to %(email)s.")
                    % {"email": invitation.email},
                )
                return redirect("organizations:company_people", company_id=company.pk)
    return render(
        request,
        "organizations/company_people.html",
        {
            "company": company,
            "page": page,
            "filters": filters,
            "invite_form": invite_form,
            "can_invite": can_invite_to_company(request.user, company),
            "invitations": invitation_list_for_company(company=company)[:50],
        },
    )


@login_required
@require_POST
def membership_end_view(request, company_id: int, membership_id: int):
    company = _company_for_people(request, company_id)
    if not can_invite_to_company(request.user, company):
        raise PermissionDenied
    membership = get_object_or_404(
        Membership.objects.active(), pk=membership_id, company=company
    )
    try:
        membership_end(membership=membership)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(name)s is no longer a member of %(company)s.")
            % {"name": membership.user.get_full_name(), "company": company},
        )
    return redirect("organizations:company_people", company_id=company.pk)


COURSE_REVIEWER_VALUE_INVALID = _("Choose whether this expert reviews course changes.")


@login_required
@require_POST
def membership_course_reviewer_view(request, company_id: int, membership_id: int):
    """HR (or a coordinator) names an expert course reviewer, or stops it."""
    company = _company_for_people(request, company_id)
    membership = get_object_or_404(
        Membership.objects.select_related("user"), pk=membership_id, company=company
    )
    value = request.POST.get("value")
    if value not in ("0", "1"):
        messages.error(request, COURSE_REVIEWER_VALUE_INVALID)
        return redirect("organizations:company_people", company_id=company.pk)
    try:
        membership_set_course_reviewer(
            actor=request.user, membership=membership, value=value == "1"
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        message = (
            _("%(name)s now reviews changes to %(company)s's courses.")
            if value == "1"
            else _("%(name)s no longer reviews course changes.")
        )
        messages.success(
            request,
            message % {"name": membership.user.get_full_name(), "company": company},
        )
    return redirect("organizations:company_people", company_id=company.pk)


@login_required
@require_POST
def invitation_revoke_view(request, company_id: int, invitation_id: int):
    company = _company_for_people(request, company_id)
    invitation = get_object_or_404(Invitation, pk=invitation_id, company=company)
    try:
        invitation_revoke(invitation=invitation, revoked_by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The invitation has been revoked."))
    return redirect("organizations:company_people", company_id=company.pk)


def invitation_accept_view(request, token: str):
    invitation = invitation_get_by_token(token=token)
    if invitation is None:
        raise Http404
    error_messages: list[str] = []
    if request.method == "POST" and request.user.is_authenticated:
        try:
            invitation_accept(invitation=invitation, user=request.user)
        except ValidationError as error:
            error_messages = error.messages
        else:
            messages.success(
                request,
                _("Welcome to %(company)s.") % {"company": invitation.company},
            )
            return redirect("/")
    return render(
        request,
        "organizations/invitation_accept.html",
        {"invitation": invitation, "errors": error_messages},
        status=400 if error_messages else 200,
    )
