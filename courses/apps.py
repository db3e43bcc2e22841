from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _ensure_authoring(sender, app_config=None, using="default", **kwargs):
    # Run once, after every app's own post_migrate work (content types and
    # permissions of wagtailcore and auth are created by then).
    from django.apps import apps

    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if app_config is not with_models[-1]:
        return
    from .services import course_workflow_ensure

    course_workflow_ensure()


def _membership_changed(sender, instance, **kwargs):
    from .services import expert_groups_sync

    user = instance.user
    transaction.on_commit(lambda: expert_groups_sync(user=user))


def _user_logged_in(sender, request, user, **kwargs):
    # Memberships end by date; refresh the experts groups at every login.
    from .services import expert_groups_sync

    expert_groups_sync(user=user)


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from organizations.models import Membership

        post_migrate.connect(_ensure_authoring, dispatch_uid="courses_authoring")
        post_save.connect(
            _membership_changed, sender=Membership, dispatch_uid="courses_membership"
        )
        post_delete.connect(
            _membership_changed,
            sender=Membership,
            dispatch_uid="courses_membership_delete",
        )
        user_logged_in.connect(_user_logged_in, dispatch_uid="courses_login")

        from wagtail.models import TaskState
        from wagtail.signals import task_submitted

        from .workflow import review_submitted

        task_submitted.connect(
            review_submitted, sender=TaskState, dispatch_uid="courses_review_submitted"
        )
