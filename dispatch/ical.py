"""iCalendar (RFC 5545) output for visits, built with the ``icalendar`` package.

Times are exported in Asia/Shanghai (with a VTIMEZONE) so calendar clients show
the local time of the visit; the database keeps UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from .models import Visit, VisitMode, VisitStatus

PRODID = "-//Metrology Partnership Academy//Expert dispatch//ZH"


def _tz() -> ZoneInfo:
    return ZoneInfo(getattr(settings, "TIME_ZONE", "Asia/Shanghai"))


def _base_url() -> str:
    return getattr(settings, "ACADEMY_PUBLIC_BASE_URL", "").rstrip("/")


def _status(visit: Visit) -> str:
    if visit.status == VisitStatus.CONFIRMED or visit.status == VisitStatus.COMPLETED:
        return "CONFIRMED"
    if visit.status == VisitStatus.TENTATIVE:
        return "TENTATIVE"
    return "CANCELLED"


def visit_event(visit: Visit, *, private: bool = True) -> Event:
    """One VEVENT; ``private`` adds the expert and participants' details."""
    tz = _tz()
    event = Event()
    event.add("uid", visit.uid)
    event.add("sequence", visit.sequence)
    event.add("dtstamp", timezone.now())
    event.add("dtstart", visit.starts_at.astimezone(tz))
    event.add("dtend", visit.ends_at.astimezone(tz))
    event.add("summary", visit.title)
    event.add("status", _status(visit))
    event.add("categories", [visit.topic.name])
    if visit.mode == VisitMode.REMOTE:
        event.add("location", vText(str(VisitMode.REMOTE.label)))
    elif visit.location:
        event.add("location", vText(visit.location))
    lines = [visit.topic.name, str(visit.host_company)]
    if visit.expert_id:
        lines.append(visit.expert.get_full_name())
    if private and visit.description:
        lines.append(visit.description)
    if visit.status == VisitStatus.CANCELLED and visit.cancel_reason:
        lines.append(visit.cancel_reason)
    event.add("description", "\n".join(lines))
    event.add("url", _base_url() + reverse("dispatch:visit_detail", args=[visit.pk]))
    if private and visit.expert_id:
        organizer = vCalAddress(f"mailto:{visit.expert.email}")
        organizer.params["cn"] = vText(visit.expert.get_full_name())
        event.add("organizer", organizer)
    if visit.updated_at:
        event.add("last-modified", visit.updated_at)
    return event


def _calendar(name: str, *, method: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    # vText escapes line breaks: a bare string for an X- property is emitted
    # as is, so a visit title with CR/LF would inject calendar properties
    # (icalendar only guards that with an ``assert``).
    calendar.add("x-wr-calname", vText(name))
    calendar.add("x-wr-timezone", str(_tz()))
    if method:
        calendar.add("method", method)
    return calendar


def _finish(calendar: Calendar) -> bytes:
    calendar.add_missing_timezones()
    return calendar.to_ical()


def calendar_for_visits(
    visits: Iterable[Visit], *, name: str, private: bool = False
) -> bytes:
    calendar = _calendar(name)
    for visit in visits:
        calendar.add_component(visit_event(visit, private=private))
    return _finish(calendar)


def invitation_for_visit(visit: Visit) -> bytes:
    """A single-event calendar for download or as an e-mail attachment."""
    method = "CANCEL" if visit.status == VisitStatus.CANCELLED else "PUBLISH"
    calendar = _calendar(visit.title, method=method)
    calendar.add_component(visit_event(visit, private=True))
    return _finish(calendar)
