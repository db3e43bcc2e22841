from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.widgets import Button
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from home.navigation import NavItem
from organizations.models import Role
from organizations.permissions import companies_with_role, is_coordinator

from . import admin_views
from .models import (
    Certificate,
    CertificateDesign,
    CourseCertificateSettings,
    RenderStatus,
    VerificationLog,
)
from .selectors import certificate_list_for_learner


class CoordinatorPolicy(ModelPermissionPolicy):
    """Coordinators manage; ``actions`` limits what they may do at all."""

    def __init__(self, model, actions=("add", "change", "delete", "view")):
        super().__init__(model)
        self.actions = set(actions)

    def user_has_permission(self, user, action):
        return action in self.actions and is_coordinator(user)

    def user_has_any_permission(self, user, actions):
        return any(self.user_has_permission(user, action) for action in actions)

    def users_with_any_permission(self, actions):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.none()


class CertificateDesignViewSet(SnippetViewSet):
    model = CertificateDesign
    icon = "doc-full"
    menu_label = _("Designs")
    list_display = ["name", "is_default", "title_zh", "issuer_name", "updated_at"]
    search_fields = ["name"]


class CourseCertificateSettingsViewSet(SnippetViewSet):
    model = CourseCertificateSettings
    icon = "link"
    menu_label = _("Course designs")
    list_display = ["course", "design", "issues_certificates"]
    list_filter = ["design", "issues_certificates"]


class CertificateViewSet(SnippetViewSet):
    """Issued certificates are records: listed and inspected, never edited."""

    model = Certificate
    icon = "success"
    menu_label = _("Certificates")
    list_display = [
        "serial",
        "holder_name",
        "course_title",
        "company_name",
        "issued_on",
        "valid_until",
        "render_status",
        "revoked_at",
    ]
    list_filter = ["render_status", "issued_on", "valid_until", "revoked_at"]
    search_fields = ["serial", "code", "holder_name", "course_title", "company_name"]
    inspect_view_enabled = True
    inspect_view_fields = [
        "serial",
        "code",
        "holder_name",
        "holder_latin_name",
        "company_name",
        "employee_number",
        "course_title",
        "course_title_en",
        "scope",
        "hours",
        "score",
        "completed_on",
        "issued_on",
        "valid_until",
        "issuer_name",
        "signatory_name",
        "render_status",
        "render_attempts",
        "render_error",
        "pdf_sha256",
        "issued_by",
        "issue_reason",
        "replaces",
        "superseded_at",
        "revoked_at",
        "revoked_reason",
        "revoked_by",
    ]

    def get_queryset(self, request):
        return Certificate.objects.for_user(request.user).select_related("course")


class VerificationLogViewSet(SnippetViewSet):
    model = VerificationLog
    icon = "search"
    menu_label = _("Verifications")
    list_display = ["at", "method", "query", "result", "certificate"]
    list_filter = ["result", "method"]


class CertificatesViewSetGroup(SnippetViewSetGroup):
    items = (
        CertificateViewSet,
        CertificateDesignViewSet,
        CourseCertificateSettingsViewSet,
        VerificationLogViewSet,
    )
    menu_icon = "success"
    menu_label = _("Certificates")
    menu_name = "certificates"


register_permission_policy(CertificateDesign, CoordinatorPolicy(CertificateDesign))
register_permission_policy(
    CourseCertificateSettings, CoordinatorPolicy(CourseCertificateSettings)
)
register_permission_policy(Certificate, CoordinatorPolicy(Certificate, ("view",)))
register_permission_policy(
    VerificationLog, CoordinatorPolicy(VerificationLog, ("view",))
)
register_snippet(CertificatesViewSetGroup)


@hooks.register("register_admin_urls")
def certificate_admin_urls():
    return [
        path("certificates/issue/", admin_views.issue, name="certificates_issue"),
        path(
            "certificates/<int:certificate_id>/revoke/",
            admin_views.revoke,
            name="certificates_revoke",
        ),
        path(
            "certificates/<int:certificate_id>/reissue/",
            admin_views.reissue,
            name="certificates_reissue",
        ),
        path(
            "certificates/<int:certificate_id>/rerender/",
            admin_views.rerender,
            name="certificates_rerender",
        ),
        path(
            "certificates/designs/<int:design_id>/preview.pdf",
            admin_views.design_preview,
            name="certificates_design_preview",
        ),
    ]


class _IssueMenuItem(MenuItem):
    def is_shown(self, request):
        return is_coordinator(request.user)


@hooks.register("register_admin_menu_item")
def issue_menu_item():
    return _IssueMenuItem(
        _("Issue a certificate"),
        reverse("certificates_issue"),
        icon_name="plus",
        order=610,
    )


@hooks.register("register_snippet_listing_buttons")
def certificate_listing_buttons(snippet, user, next_url=None):
    if isinstance(snippet, CertificateDesign) and is_coordinator(user):
        return [
            Button(
                _("Preview PDF"),
                reverse("certificates_design_preview", args=[snippet.pk]),
                icon_name="view",
                priority=5,
                attrs={"target": "_blank", "rel": "noopener"},
            )
        ]
    if not isinstance(snippet, Certificate) or not is_coordinator(user):
        return []
    buttons = []
    if snippet.is_pdf_ready:
        buttons.append(
            Button(
                _("Download PDF"),
                reverse("certificates:download", args=[snippet.pk]),
                icon_name="download",
                priority=10,
            )
        )
    if snippet.superseded_at is None:
        buttons.append(
            Button(
                _("Re-issue (correction)"),
                reverse("certificates_reissue", args=[snippet.pk]),
                icon_name="repeat",
                priority=20,
            )
        )
    if snippet.revoked_at is None:
        buttons.append(
            Button(
                _("Revoke"),
                reverse("certificates_revoke", args=[snippet.pk]),
                icon_name="warning",
                priority=30,
            )
        )
    return buttons


class FailedRendersPanel(Component):
    order = 90

    def __init__(self, count: int):
        self.count = count

    def render_html(self, parent_context=None):
        return render_to_string(
            "certificates/admin/failed_panel.html",
            {
                "count": self.count,
                "url": reverse("wagtailsnippets_certificates_certificate:list")
                + "?render_status=failed",
            },
        )


@hooks.register("construct_homepage_panels")
def failed_renders_panel(request, panels):
    if not is_coordinator(request.user):
        return
    count = Certificate.objects.filter(render_status=RenderStatus.FAILED).count()
    if count:
        panels.append(FailedRendersPanel(count))


@hooks.register("register_public_nav_items")
def verify_nav_item(request):
    return [NavItem(_("Verify a certificate"), reverse("certificates:verify"), 80)]


@hooks.register("register_site_nav_items")
def hr_certificates_nav_item(request):
    companies = companies_with_role(request.user, Role.HR)
    if len(companies) == 1:
        url = reverse("certificates:company", args=[companies[0]])
        return [NavItem(_("Certificates"), url, 35)]
    return []


@hooks.register("my_learning_sections")
def my_learning_certificates(request):
    certificates = list(certificate_list_for_learner(user=request.user))
    if not certificates:
        return ""
    return render_to_string(
        "certificates/my_learning_section.html",
        {"certificates": certificates},
        request=request,
    )
