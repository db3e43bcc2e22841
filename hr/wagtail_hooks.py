from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from home.navigation import NavItem
from organizations.models import Role
from organizations.permissions import companies_with_role


@hooks.register("register_site_nav_items")
def hr_nav_item(request):
    companies = companies_with_role(request.user, Role.HR)
    if len(companies) == 1:
        url = reverse("hr:dashboard", args=[companies[0]])
    elif companies:
        url = reverse("organizations:my_companies")
    else:
        return []
    return [NavItem(_("HR dashboard"), url, 30)]
