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


def renew_on_refresher_completed(sender, enrollment, **kwargs) -> None:
    """courses sends ``course_completed`` after its commit: a completed
    refresher course re-issues the certificates it restores."""
    from .services import credential_renew_after_refresher

    try:
        credential_renew_after_refresher(enrollment=enrollment)
    except Exception:
        # Never break the learner's request; the error is logged for operators
        # and a coordinator can re-issue by hand.
        logger.exception(
            "Renewing certificates after refresher enrolment %s failed", enrollment.pk
        )


def reinstate_on_assessment_passed(sender, instance, raw=False, **kwargs) -> None:
    """dispatch saves a ``PracticalAssessment``; a passed one resolves the
    person's open proficiency failures after the commit."""
    if raw or not instance.passed:
        return
    assessment_id = instance.pk

    def resolve() -> None:
        from dispatch.models import PracticalAssessment

        from .services import proficiency_resolve_by_assessment

        assessment = (
            PracticalAssessment.objects.select_related("visit", "recorded_by")
            .filter(pk=assessment_id, passed=True)
            .first()
        )
        if assessment is None:
            return
        try:
            proficiency_resolve_by_assessment(assessment=assessment)
        except Exception:
            logger.exception(
                "Reinstating credentials after assessment %s failed", assessment_id
            )

    transaction.on_commit(resolve)
