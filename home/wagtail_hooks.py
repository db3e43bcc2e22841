from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from organizations.permissions import user_roles

from .navigation import NavItem

# Roles that work in the Wagtail admin.
_ADMIN_ROLES = {"expert", "coordinator"}


@hooks.register("register_site_nav_items")
def admin_nav_item(request):
    if request.user.is_superuser or _ADMIN_ROLES & user_roles(request.user):
        return [NavItem(_("Editor's desk"), reverse("wagtailadmin_home"), 90)]
    return []
