from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from home.navigation import NavItem

from .models import Company, Membership, Partnership, Role
from .permissions import companies_with_role


class CompanyViewSet(SnippetViewSet):
    model = Company
    icon = "site"
    menu_label = _("Companies")
    list_display = ["name", "kind", "credit_code", "region", "industry", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "credit_code"]
    ordering = ["name"]


class PartnershipViewSet(SnippetViewSet):
    model = Partnership
    icon = "link"
    menu_label = _("Partnerships")
    list_display = ["lead", "sme", "mode", "status", "since"]
    list_filter = ["mode", "status"]
    ordering = ["lead__name", "sme__name"]


class MembershipViewSet(SnippetViewSet):
    model = Membership
    icon = "user"
    menu_label = _("Memberships")
    list_display = [
        "user",
        "company",
        "role",
        "employee_number",
        "department",
        "ended_on",
    ]
    list_filter = ["role", "company", "may_review_courses"]
    search_fields = ["employee_number", "department"]
    ordering = ["company__name"]


class ProgrammeViewSetGroup(SnippetViewSetGroup):
    items = (CompanyViewSet, PartnershipViewSet, MembershipViewSet)
    menu_icon = "group"
    menu_label = _("Programme")
    menu_name = "programme"


register_snippet(ProgrammeViewSetGroup)


@hooks.register("register_site_nav_items")
def company_nav_items(request):
    if companies_with_role(request.user, Role.HR):
        return [NavItem(_("My company"), reverse("organizations:my_companies"), 30)]
    return []
