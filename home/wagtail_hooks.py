from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from .navigation import NavItem
from .permissions import can_use_editor_desk


@hooks.register("register_site_nav_items")
def admin_nav_item(request):
    if can_use_editor_desk(request.user):
        return [NavItem(_("Editor's desk"), reverse("wagtailadmin_home"), 90)]
    return []
