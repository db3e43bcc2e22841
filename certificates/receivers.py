"""Signal receivers: the courses app's completion event issues a certificate."""

from __future__ import annotations

import logging

logger = logging.getLogger("academy.certificates")


def issue_on_completion(sender, enrollment, **kwargs) -> None:
    from .services import certificate_issue_for_enrollment

    try:
        certificate_issue_for_enrollment(enrollment=enrollment)
    except Exception:
        # Never break the learner's request; `manage.py certificates_maintenance`
        # issues what is missing, and the error is logged for operators.
        logger.exception(
            "Issuing the certificate of enrolment %s failed", enrollment.pk
        )
