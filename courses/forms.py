from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm

COURSE_PUBLISHER_NOT_YOURS = _(
    "You may only publish courses for lead enterprises where you are an expert."
)


class CoursePageForm(WagtailAdminPageForm):
    """Experts choose only their own lead enterprises as publisher."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from organizations.models import Company, Role
        from organizations.permissions import companies_with_role, is_coordinator

        user = getattr(self, "for_user", None)
        field = self.fields.get("publisher")
        if field is None or user is None or is_coordinator(user):
            return
        field.queryset = Company.objects.leads().filter(
            pk__in=companies_with_role(user, Role.EXPERT)
        )

    def clean_publisher(self):
        from organizations.models import Role
        from organizations.permissions import has_role_in_company, is_coordinator

        publisher = self.cleaned_data.get("publisher")
        user = getattr(self, "for_user", None)
        if (
            publisher is not None
            and user is not None
            and not is_coordinator(user)
            and not has_role_in_company(user, publisher, Role.EXPERT)
        ):
            self.add_error("publisher", COURSE_PUBLISHER_NOT_YOURS)
        return publisher
