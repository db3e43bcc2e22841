"""Background tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="default")
def credential_issue_task(certificate_id: int) -> int:
    from certificates.models import Certificate

    from .services import credential_issue

    certificate = Certificate.objects.get(pk=certificate_id)
    return credential_issue(certificate=certificate).pk
