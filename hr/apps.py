from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HrConfig(AppConfig):
    name = "hr"
    verbose_name = _("HR workspace")

    def ready(self) -> None:
        from . import receivers  # noqa: F401
