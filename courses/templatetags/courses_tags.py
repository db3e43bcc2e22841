from django import template
from django.utils.translation import gettext as _

from ..units import compatible_units

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """12 min, 1 h 05 min."""
    try:
        seconds = int(seconds or 0)
    except (TypeError, ValueError):
        seconds = 0
    minutes = seconds // 60
    if minutes < 60:
        return _("%(minutes)s min") % {"minutes": minutes}
    return _("%(hours)s h %(minutes)02d min") % {
        "hours": minutes // 60,
        "minutes": minutes % 60,
    }


@register.filter
def unit_choices(question_value) -> list[str]:
    unit = question_value.get("unit") or ""
    if not unit:
        return []
    if question_value.get("allow_unit_conversion"):
        return compatible_units(unit)
    return [unit]


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None
