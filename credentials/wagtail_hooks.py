from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.widgets import Button
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from certificates.wagtail_hooks import CoordinatorPolicy
from organizations.models import Role
from organizations.permissions import companies_with_role, is_coordinator

from . import admin_views
from .models import CompetenceScope, Procedure, ProficiencyResult
from .permissions import can_record_procedure_revision


class ProcedureViewSet(SnippetViewSet):
    model = Procedure
    icon = "doc-full"
    list_display = ["code", "title", "is_in_house"]
    list_filter = ["is_in_house"]


class CompetenceScopeViewSet(SnippetViewSet):
    model = CompetenceScope
    icon = "tasks"
    list_display = [
        "course",
        "instrument_class",
        "__str__",
        "procedure_revision",
        "level",
        "refresher_course",
    ]
    list_filter = ["level"]


class ProficiencyResultViewSet(SnippetViewSet):
    """Recorded PT/ILC failures, read-only here (recorded on the company's
    proficiency page so that the tenant checks apply)."""

    model = ProficiencyResult
    icon = "warning"
    list_display = ["user", "company", "scope", "kind", "held_on", "resolved_at"]
    list_filter = ["kind", "resolved_at"]
    inspect_view_enabled = True


class CredentialsViewSetGroup(SnippetViewSetGroup):
    menu_label = _("Competence")
    menu_icon = "tasks"
    items = (ProcedureViewSet, CompetenceScopeViewSet, ProficiencyResultViewSet)


register_permission_policy(
    ProficiencyResult, CoordinatorPolicy(ProficiencyResult, ("view",))
)
register_snippet(CredentialsViewSetGroup)


@hooks.register("register_admin_urls")
def credentials_admin_urls():
    return [
        path(
            "credentials/procedures/revisions/",
            admin_views.procedure_revisions,
            name="credentials_procedure_revisions",
        ),
        path(
            "credentials/procedures/<int:procedure_id>/revise/",
            admin_views.procedure_revise,
            name="credentials_procedure_revise",
        ),
    ]


class _RevisionMenuItem(MenuItem):
    def is_shown(self, request):
        user = request.user
        return is_coordinator(user) or bool(companies_with_role(user, Role.EXPERT))


@hooks.register("register_admin_menu_item")
def revision_menu_item():
    return _RevisionMenuItem(
        _("Record a procedure revision"),
        reverse("credentials_procedure_revisions"),
        icon_name="history",
        order=620,
    )


@hooks.register("register_snippet_listing_buttons")
def procedure_listing_buttons(snippet, user, next_url=None):
    if isinstance(snippet, Procedure) and can_record_procedure_revision(user, snippet):
        return [
            Button(
                _("Record a revision"),
                reverse("credentials_procedure_revise", args=[snippet.pk]),
                icon_name="history",
                priority=10,
            )
        ]
    return []


@hooks.register("register_site_nav_items")
def proficiency_nav_item(request):
    """HR of one company: their proficiency page (no query: roles are cached)."""
    from home.navigation import NavItem

    companies = companies_with_role(request.user, Role.HR)
    if len(companies) == 1:
        url = reverse("credentials:company_proficiency", args=[companies[0]])
        return [NavItem(_("Proficiency tests"), url, 37)]
    return []
