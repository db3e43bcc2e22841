"""Background work: thin tasks taking ids, re-fetching and calling one function."""

from __future__ import annotations

from django.tasks import task

from . import notifications
from .models import Registration, Visit, VisitRequestEvent

_VISIT_RELATED = ("topic", "expert", "host_company", "request__requested_by")


@task(queue_name="email")
def visit_request_notify_task(event_id: int) -> int:
    event = (
        VisitRequestEvent.objects.select_related(
            "request__requested_by", "request__topic", "actor"
        )
        .filter(pk=event_id)
        .first()
    )
    return notifications.send_request_event(event) if event else 0


@task(queue_name="email")
def visit_notify_expert_task(visit_id: int) -> int:
    visit = Visit.objects.select_related(*_VISIT_RELATED).filter(pk=visit_id).first()
    return notifications.send_expert_proposal(visit) if visit else 0


@task(queue_name="email")
def visit_declined_notify_task(visit_id: int) -> int:
    visit = (
        Visit.objects.select_related(*_VISIT_RELATED, "created_by")
        .filter(pk=visit_id)
        .first()
    )
    return notifications.send_expert_declined(visit) if visit else 0


@task(queue_name="email")
def visit_send_invitation_task(visit_id: int, kind: str) -> int:
    visit = Visit.objects.select_related(*_VISIT_RELATED).filter(pk=visit_id).first()
    return notifications.send_visit_invitation(visit, kind) if visit else 0


@task(queue_name="email")
def registration_promoted_notify_task(registration_id: int) -> int:
    registration = (
        Registration.objects.select_related("user", "visit__topic", "visit__expert")
        .filter(pk=registration_id)
        .first()
    )
    return notifications.send_registration_promoted(registration) if registration else 0


@task()
def visit_reminders_send_task() -> int:
    from .services import visit_reminders_send

    return visit_reminders_send()


@task()
def visit_request_expire_stale_task() -> int:
    from .services import visit_request_expire_stale

    return visit_request_expire_stale()
