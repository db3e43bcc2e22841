from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Role


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    role = forms.ChoiceField(
        label=_("Role"), choices=Role.choices, initial=Role.LEARNER
    )
    employee_number = forms.CharField(
        label=_("Employee number"), max_length=50, required=False
    )
    department = forms.CharField(label=_("Department"), max_length=100, required=False)


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    department = forms.ChoiceField(label=_("Department"), required=False)
    role = forms.ChoiceField(
        label=_("Role"),
        required=False,
        choices=[("", _("All roles")), *Role.choices],
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All departments"))] + [
            (name, name) for name in departments
        ]
