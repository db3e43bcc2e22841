from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificates")

    def ready(self) -> None:
        from courses.signals import course_completed

        from .receivers import issue_on_completion

        course_completed.connect(
            issue_on_completion, dispatch_uid="certificates_issue_on_completion"
        )
