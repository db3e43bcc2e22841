from django.contrib import messages
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from home.navigation import NavItem

from . import permissions as perms
from .models import (
    CourseVisitRequirement,
    ExpertSchedule,
    MetrologyTopic,
    StationingPlan,
)


class TopicViewSet(SnippetViewSet):
    model = MetrologyTopic
    icon = "tag"
    menu_label = gettext_lazy("Metrology topics")
    list_display = [
        "code",
        "name",
        "category",
        "typical_duration_minutes",
        "expects_practical_assessment",
    ]
    list_filter = ["category", "expects_practical_assessment"]
    search_fields = ["code", "name", "name_en"]


class CourseVisitRequirementViewSet(SnippetViewSet):
    model = CourseVisitRequirement
    icon = "tasks"
    menu_label = gettext_lazy("Course visit requirements")
    list_display = ["course", "topic", "kind"]
    list_filter = ["kind", "topic"]


class ExpertScheduleViewSet(SnippetViewSet):
    model = ExpertSchedule
    icon = "time"
    menu_label = gettext_lazy("Expert schedules")
    list_display = ["user", "service_regions", "max_visits_per_month"]


class StationingPlanViewSet(SnippetViewSet):
    model = StationingPlan
    icon = "repeat"
    menu_label = gettext_lazy("Stationing plans")
    list_display = ["title", "expert", "host_company", "rrule", "first_start"]
    list_filter = ["host_company"]
    search_fields = ["title"]


class DispatchViewSetGroup(SnippetViewSetGroup):
    items = (
        TopicViewSet,
        ExpertScheduleViewSet,
        StationingPlanViewSet,
        CourseVisitRequirementViewSet,
    )
    menu_icon = "date"
    menu_label = gettext_lazy("Expert dispatch")
    menu_name = "dispatch"


register_snippet(DispatchViewSetGroup)


@hooks.register("after_create_snippet")
@hooks.register("after_edit_snippet")
def generate_plan_visits(request, instance):
    """Saving a stationing plan (re)creates its visits; idempotent."""
    if not isinstance(instance, StationingPlan):
        return
    from django.core.exceptions import PermissionDenied, ValidationError

    from .services import stationing_plan_generate

    try:
        result = stationing_plan_generate(plan=instance, user=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
        return
    messages.success(
        request,
        _("%(created)s visits created, %(updated)s updated, %(kept)s kept.")
        % {
            "created": len(result.created),
            "updated": len(result.updated),
            "kept": len(result.kept),
        },
    )
    for moment, message in result.conflicts:
        messages.warning(request, f"{moment:%Y-%m-%d %H:%M}: {message}")


@hooks.register("my_learning_sections")
def my_learning_visits(request):
    """Upcoming expert visits the learner is registered for."""
    from django.template.loader import render_to_string

    from .selectors import registration_list_for_participant

    registrations = registration_list_for_participant(user=request.user)
    if not registrations:
        return ""
    return render_to_string(
        "dispatch/my_learning_section.html",
        {"registrations": registrations},
        request=request,
    )


@hooks.register("register_admin_menu_item")
def board_menu_item():
    from wagtail.admin.menu import MenuItem

    class BoardMenuItem(MenuItem):
        def is_shown(self, request):
            return perms.can_view_board(request.user)

    return BoardMenuItem(
        gettext_lazy("Dispatch board"),
        reverse("dispatch:board"),
        icon_name="date",
        order=250,
    )


@hooks.register("register_public_nav_items")
def schedule_nav_item(request):
    return [NavItem(gettext_lazy("Expert visits"), "/visits/", 30)]


@hooks.register("register_site_nav_items")
def dispatch_nav_items(request):
    user = request.user
    items = []
    if perms.is_expert(user):
        items.append(NavItem(_("My visits"), reverse("dispatch:my_visits"), 40))
    if perms.is_sme_hr(user):
        items.append(NavItem(_("Our visits"), reverse("dispatch:our_visits"), 41))
    elif perms.requester_company_ids(user):
        url = reverse("dispatch:request_create")
        items.append(NavItem(_("Request an expert visit"), url, 41))
    if perms.can_view_board(user):
        items.append(NavItem(_("Dispatch board"), reverse("dispatch:board"), 42))
    return items
