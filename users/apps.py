from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _
from wagtail.users.apps import WagtailUsersAppConfig


class UsersConfig(AppConfig):
    default = True
    name = "users"
    verbose_name = _("Users")

    def ready(self) -> None:
        from . import signals  # noqa: F401


class AcademyWagtailUsersConfig(WagtailUsersAppConfig):
    user_viewset = "users.viewsets.UserViewSet"
