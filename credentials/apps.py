from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = _("Competence credentials")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from certificates.models import Certificate
        from courses.signals import course_completed
        from dispatch.models import PracticalAssessment

        from .receivers import (
            issue_on_certificate_created,
            reinstate_on_assessment_passed,
            renew_on_refresher_completed,
        )

        post_save.connect(
            issue_on_certificate_created,
            sender=Certificate,
            dispatch_uid="credentials_issue_on_certificate_created",
        )
        course_completed.connect(
            renew_on_refresher_completed,
            dispatch_uid="credentials_renew_on_refresher_completed",
        )
        post_save.connect(
            reinstate_on_assessment_passed,
            sender=PracticalAssessment,
            dispatch_uid="credentials_reinstate_on_assessment_passed",
        )
