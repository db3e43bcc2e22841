from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = _("Competence credentials")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from certificates.models import Certificate

        from .receivers import issue_on_certificate_created

        post_save.connect(
            issue_on_certificate_created,
            sender=Certificate,
            dispatch_uid="credentials_issue_on_certificate_created",
        )
