from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from wagtail.users.forms import UserCreationForm as WagtailUserCreationForm
from wagtail.users.forms import UserEditForm as WagtailUserEditForm

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9 \-]{5,28}$",
    _("Enter a phone number of digits, optionally starting with +."),
)


class SignupForm(forms.Form):
    """Extra fields on allauth's signup form (allauth calls ``signup``)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Your real name as it should appear on certificates."),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=30,
        required=False,
        validators=[phone_validator],
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Please enter your name."))
        return name

    def signup(self, request, user) -> None:
        user.name = self.cleaned_data["name"]
        user.phone = self.cleaned_data.get("phone", "")
        user.save(update_fields=["name", "phone"])


class ProfileForm(forms.ModelForm):
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=30,
        required=False,
        validators=[phone_validator],
    )

    class Meta:
        model = get_user_model()
        fields = ["name", "latin_name", "phone"]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Please enter your name."))
        return name


_WAGTAIL_USER_FIELDS = {"email", "name", "phone", "is_superuser", "groups"}


class WagtailUserCreationForm(WagtailUserCreationForm):
    first_name = None
    last_name = None
    name = forms.CharField(label=_("Name"), max_length=100)

    class Meta(WagtailUserCreationForm.Meta):
        fields = _WAGTAIL_USER_FIELDS


class WagtailUserEditForm(WagtailUserEditForm):
    first_name = None
    last_name = None
    name = forms.CharField(label=_("Name"), max_length=100)

    class Meta(WagtailUserEditForm.Meta):
        fields = _WAGTAIL_USER_FIELDS | {"is_active"}
