from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_groups(sender, **kwargs) -> None:
    from .services import groups_ensure

    groups_ensure()


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        # After every migrate (the last app's), so that all permissions exist.
        post_migrate.connect(_ensure_groups, dispatch_uid="organizations_groups")
