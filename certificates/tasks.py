"""Background tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="pdf")
def certificate_render_task(certificate_id: int) -> str:
    from .services import certificate_render_with_retries

    certificate = certificate_render_with_retries(certificate_id=certificate_id)
    return certificate.render_status


@task(queue_name="email")
def certificate_expiry_reminders_task() -> int:
    from .services import certificate_send_expiry_reminders

    return certificate_send_expiry_reminders()


@task(queue_name="pdf")
def certificate_rerender_stuck_task() -> int:
    from .services import certificate_rerender_stuck

    return certificate_rerender_stuck()
