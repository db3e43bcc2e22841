"""Background tasks of the operations app (thin: they call one function)."""

from __future__ import annotations

import base64

from django.tasks import task


@task(queue_name="email")
def mail_retry_task(
    *, alias: str, raw: str, from_email: str, recipients: list[str], attempt: int
) -> bool:
    from .mail import StoredMessage, mail_send_attempt

    message = StoredMessage(
        raw=base64.b64decode(raw), from_email=from_email, recipients=recipients
    )
    return mail_send_attempt(alias=alias, message=message, attempt=attempt)
