"""E-mail that survives a failing mail server.

``RetryingEmailBackend`` is configured as the ``default`` mailer in production
(Django 6.1 ``MAILERS``) and wraps the real backend (SMTP)::

    MAILERS = {"default": {
        "BACKEND": "ops.mail.RetryingEmailBackend",
        "OPTIONS": {
            "backend": "django.core.mail.backends.smtp.EmailBackend",
            "options": {"host": "...", "port": 587, ...},
            "retry_delays": [60, 300, 1800, 7200],
        },
    }}

Every message is handed to the real backend on its own. When that raises, the
failure is logged (``mail_send_failed`` on ``academy.ops``) and the message —
frozen as its MIME bytes, so the Message-ID stays the same on every attempt —
is re-queued as ``mail_retry_task`` on the ``email`` queue, ``retry_delays[n]``
seconds later (back-off; with the database task queue the delay is the row's
``run_after``, so a restarted worker still sends it). After the last delay the
attempt that fails logs ``mail_send_gave_up`` at ERROR and raises, which marks
the task failed in the queue.
"""

from __future__ import annotations

import base64
import email
import email.policy
import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from django.utils.module_loading import import_string

from .events import ops_event

DEFAULT_INNER_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEFAULT_RETRY_DELAYS = (60, 300, 1800, 7200)


def _config(alias: str) -> dict:
    return settings.MAILERS.get(alias, {}).get("OPTIONS", {})


def retry_delays(alias: str) -> list[int]:
    return [int(d) for d in _config(alias).get("retry_delays", DEFAULT_RETRY_DELAYS)]


def inner_backend(alias: str) -> BaseEmailBackend:
    config = _config(alias)
    backend_class = import_string(config.get("backend", DEFAULT_INNER_BACKEND))
    return backend_class(alias=alias, **config.get("options", {}))


class StoredMessage(EmailMessage):
    """A message frozen as MIME bytes, sent again exactly as first built."""

    def __init__(self, *, raw: bytes, from_email: str, recipients: list[str]):
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        body = parsed.get_body(("plain",))
        super().__init__(
            subject=str(parsed.get("Subject", "")),
            body=body.get_content() if body is not None else "",
            from_email=from_email,
            to=list(recipients),
        )
        self.raw = raw
        self._all_recipients = list(recipients)
        self.message_id = str(parsed.get("Message-ID", ""))

    def message(self, *, policy=email.policy.default):
        return email.message_from_bytes(self.raw, policy=policy)

    def recipients(self):
        return list(self._all_recipients)


def freeze(message: EmailMessage) -> StoredMessage:
    if isinstance(message, StoredMessage):
        return message
    return StoredMessage(
        raw=message.message().as_bytes(),
        from_email=message.from_email,
        recipients=message.recipients(),
    )


def mail_send_attempt(*, alias: str, message: EmailMessage, attempt: int) -> bool:
    """Send one message; on failure log it and queue the next attempt.

    Returns True when sent now, False when queued for a retry; raises when the
    last attempt failed.
    """
    try:
        inner_backend(alias).send_messages([message])
    except Exception as error:
        frozen = freeze(message)
        delays = retry_delays(alias)
        fields = {
            "attempt": attempt,
            "message_id": frozen.message_id,
            "recipients": len(frozen.recipients()),
            "error": error.__class__.__name__,
        }
        if attempt > len(delays):
            ops_event("mail_send_gave_up", level=logging.ERROR, **fields)
            raise
        delay = delays[attempt - 1]
        ops_event("mail_send_failed", level=logging.WARNING, retry_in=delay, **fields)
        _queue_retry(alias=alias, message=frozen, attempt=attempt + 1, delay=delay)
        return False
    if attempt > 1:
        ops_event(
            "mail_sent_after_retry",
            attempt=attempt,
            message_id=getattr(message, "message_id", ""),
        )
    return True


def _queue_retry(*, alias: str, message: StoredMessage, attempt: int, delay: int):
    from .tasks import mail_retry_task

    task = mail_retry_task
    if task.get_backend().supports_defer:
        task = task.using(run_after=timezone.now() + timedelta(seconds=delay))
    return task.enqueue(
        alias=alias,
        raw=base64.b64encode(message.raw).decode("ascii"),
        from_email=message.from_email,
        recipients=message.recipients(),
        attempt=attempt,
    )


class RetryingEmailBackend(BaseEmailBackend):
    """Sends through the configured backend; failures are retried later."""

    def __init__(self, *, backend=DEFAULT_INNER_BACKEND, options=None, **kwargs):
        kwargs.pop("retry_delays", None)  # read from settings by the retry task
        super().__init__(**kwargs)

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages or []:
            if mail_send_attempt(
                alias=self.alias or "default", message=message, attempt=1
            ):
                sent += 1
        return sent
