from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks

from home.navigation import NavItem
from organizations.models import Role
from organizations.permissions import companies_with_role, is_coordinator

from .models import CourseIndexPage, CoursePage


@hooks.register("register_public_nav_items")
def courses_nav_item(request):
    return [NavItem(_("Courses"), "/courses/", 10)]


@hooks.register("register_site_nav_items")
def my_learning_nav_item(request):
    if request.user.is_authenticated:
        return [NavItem(_("My learning"), reverse("courses:my_learning"), 20)]
    return []


@hooks.register("construct_explorer_page_queryset")
def hide_other_publishers_courses(parent_page, pages, request):
    """Experts see only their own enterprises' courses in the explorer."""
    user = request.user
    if user.is_superuser or is_coordinator(user):
        return pages
    allowed = companies_with_role(user, Role.EXPERT)
    return pages.filter(
        Q(coursepage__isnull=True) | Q(coursepage__publisher_id__in=allowed)
    )


@hooks.register("after_create_page")
@hooks.register("after_edit_page")
@hooks.register("after_publish_page")
def sync_course_permissions(request, page):
    from .services import course_permissions_sync, course_workflow_ensure

    specific = page.specific
    if isinstance(specific, CoursePage):
        course_permissions_sync(course=specific)
    elif isinstance(specific, CourseIndexPage):
        course_workflow_ensure()
