from wagtail.users.views.users import UserViewSet as WagtailUserViewSet

from .forms import WagtailUserCreationForm, WagtailUserEditForm


class UserViewSet(WagtailUserViewSet):
    """Wagtail's user admin with one ``name`` field instead of first/last."""

    create_template_name = "users/admin/create.html"
    edit_template_name = "users/admin/edit.html"

    def get_form_class(self, for_update=False):
        return WagtailUserEditForm if for_update else WagtailUserCreationForm
