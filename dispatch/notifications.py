"""E-mails of the dispatch workflow (called from tasks, never in a transaction)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.models import Membership, Role

from .ical import invitation_for_visit
from .models import (
    Registration,
    RegistrationStatus,
    Visit,
    VisitRequestEvent,
    VisitStatus,
)

SUBJECT_PREFIX = "[计量伙伴学院] "


def _url(name: str, *args) -> str:
    base = getattr(settings, "ACADEMY_PUBLIC_BASE_URL", "").rstrip("/")
    return base + reverse(name, args=args)


def _send(*, subject: str, template: str, context: dict, to, ics: bytes | None = None):
    recipients = sorted({address for address in to if address})
    if not recipients:
        return 0
    body = render_to_string(template, context)
    message = EmailMultiAlternatives(
        # One line: a title with a line break would otherwise make Django
        # refuse the header, and the mail would never go out.
        subject=SUBJECT_PREFIX + " ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
    )
    if ics is not None:
        method = "CANCEL" if b"METHOD:CANCEL" in ics else "PUBLISH"
        message.attach("invite.ics", ics, f"text/calendar; method={method}")
    return message.send()


def send_request_event(event: VisitRequestEvent) -> int:
    visit_request = event.request
    subject = _("Visit request %(topic)s: %(status)s") % {
        "topic": visit_request.topic.name,
        "status": visit_request.get_status_display(),
    }
    return _send(
        subject=subject,
        template="dispatch/email/request_event.txt",
        context={
            "event": event,
            "visit_request": visit_request,
            "url": _url("dispatch:request_detail", visit_request.pk),
        },
        to=[visit_request.requested_by.email],
    )


def send_expert_proposal(visit: Visit) -> int:
    if visit.expert_id is None or visit.status != VisitStatus.TENTATIVE:
        return 0
    return _send(
        subject=_("Please confirm a visit: %(title)s") % {"title": visit.title},
        template="dispatch/email/visit_proposed.txt",
        context={"visit": visit, "url": _url("dispatch:my_visits")},
        to=[visit.expert.email],
    )


def visit_recipients(visit: Visit) -> list[str]:
    emails = []
    if visit.expert_id:
        emails.append(visit.expert.email)
    if visit.request_id:
        emails.append(visit.request.requested_by.email)
    emails += (
        Membership.objects.active()
        .filter(company=visit.host_company_id, role=Role.HR)
        .values_list("user__email", flat=True)
    )
    emails += Registration.objects.filter(
        visit=visit, status=RegistrationStatus.REGISTERED
    ).values_list("user__email", flat=True)
    return emails


def send_visit_invitation(visit: Visit, kind: str) -> int:
    """``kind``: confirmed, update, reminder_7d, reminder_1d."""
    if kind == "confirmed" and visit.status != VisitStatus.CONFIRMED:
        return 0
    if kind.startswith("reminder") and visit.status != VisitStatus.CONFIRMED:
        return 0
    subjects = {
        "confirmed": _("Visit confirmed: %(title)s"),
        "update": _("Visit changed: %(title)s"),
        "reminder_7d": _("In one week: %(title)s"),
        "reminder_1d": _("Tomorrow: %(title)s"),
    }
    if visit.status == VisitStatus.CANCELLED:
        subject = _("Visit cancelled: %(title)s")
    else:
        subject = subjects.get(kind, subjects["update"])
    sent = _send(
        subject=subject % {"title": visit.title},
        template="dispatch/email/visit_invitation.txt",
        context={
            "visit": visit,
            "kind": kind,
            "url": _url("dispatch:visit_detail", visit.pk),
        },
        to=visit_recipients(visit),
        ics=invitation_for_visit(visit),
    )
    if kind == "confirmed" and sent:
        Visit.objects.filter(pk=visit.pk, confirmation_sent_at__isnull=True).update(
            confirmation_sent_at=timezone.now()
        )
    return sent


def send_registration_promoted(registration: Registration) -> int:
    visit = registration.visit
    return _send(
        subject=_("You have a place: %(title)s") % {"title": visit.title},
        template="dispatch/email/registration_promoted.txt",
        context={
            "visit": visit,
            "registration": registration,
            "url": _url("dispatch:visit_detail", visit.pk),
        },
        to=[registration.user.email],
        ics=invitation_for_visit(visit)
        if visit.status == VisitStatus.CONFIRMED
        else None,
    )


def send_expert_declined(visit: Visit) -> int:
    """Tell whoever proposed the visit that it needs another expert."""
    if visit.status != VisitStatus.RELEASED or visit.created_by_id is None:
        return 0
    return _send(
        subject=_("Expert declined: %(title)s") % {"title": visit.title},
        template="dispatch/email/visit_declined.txt",
        context={"visit": visit, "url": _url("dispatch:board")},
        to=[visit.created_by.email],
    )
