from django.utils.translation import gettext_lazy as _
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .models import CompetenceScope, Procedure


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
    ]
    list_filter = ["level"]


class CredentialsViewSetGroup(SnippetViewSetGroup):
    menu_label = _("Competence")
    menu_icon = "tasks"
    items = (ProcedureViewSet, CompetenceScopeViewSet)


register_snippet(CredentialsViewSetGroup)
