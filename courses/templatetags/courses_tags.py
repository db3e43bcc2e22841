from django import template
from django.utils.html import format_html, format_html_join
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


@register.simple_tag
def outline_items(rows, *, link_unlocked=True, link_all=False, badges=False):
    """The ``<li>`` items of one module of a course outline.

    A course has up to a few hundred lessons, and each row as template markup
    costs a dozen node renders; building the rows here is several times
    faster. Titles and URLs are escaped; the classes come from
    ``LessonRow.css_class`` (fixed words). Rows link to their lesson when
    unlocked (and ``link_unlocked``) or always (``link_all``, editors);
    ``badges`` adds the Done / Locked badges of the course page.
    """
    done_badge = locked_badge = ""
    if badges:
        done_badge = format_html(' <span class="badge badge-ok">{}</span>', _("Done"))
        locked_badge = format_html(' <span class="badge">{}</span>', _("Locked"))
    items = []
    for row in rows:
        lesson = row.lesson
        if (link_unlocked and row.unlocked) or link_all:
            link = (
                '<a href="{}" aria-current="page">{}</a>'
                if row.current
                else '<a href="{}">{}</a>'
            )
            label = format_html(link, lesson.url or "", lesson.title)
        else:
            label = lesson.title
        badge = ""
        if row.completed:
            badge = done_badge
        elif not row.unlocked:
            badge = locked_badge
        items.append((row.css_class, label, badge))
    return format_html_join("\n", '<li class="{}">{}{}</li>', items)
