"""A new certificate gets its Open Badges credential after the commit."""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger("academy.credentials")


def _enqueue(certificate_id: int) -> None:
    from .tasks import credential_issue_task

    try:
        credential_issue_task.enqueue(certificate_id)
    except Exception:
        # Never break certificate issuing; `manage.py credentials_issue_missing`
        # catches up, and downloads issue the credential on first use.
        logger.exception(
            "Issuing the credential of certificate %s failed", certificate_id
        )


def issue_on_certificate_created(
    sender, instance, created, raw=False, **kwargs
) -> None:
    if not created or raw:
        return
    certificate_id = instance.pk
    transaction.on_commit(lambda: _enqueue(certificate_id))
