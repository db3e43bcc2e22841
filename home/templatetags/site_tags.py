from django import template

from home.navigation import nav_items_for_request, public_nav_items
from home.permissions import can_use_editor_desk

register = template.Library()


@register.simple_tag(takes_context=True)
def site_nav_items(context):
    request = context.get("request")
    if request is None:
        return []
    return nav_items_for_request(request)


@register.simple_tag(takes_context=True)
def site_public_nav_items(context):
    request = context.get("request")
    if request is None:
        return []
    return public_nav_items(request)


@register.simple_tag(takes_context=True)
def shows_editor_tools(context) -> bool:
    request = context.get("request")
    return request is not None and can_use_editor_desk(request.user)
