"""Forms of the credentials pages."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ProficiencyKind


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name or obj.email


class ScopeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        revision = obj.procedure_revision
        return (
            f"{obj.course.title} · {obj.instrument_class} "
            f"{obj.range_min.normalize():f}~{obj.range_max.normalize():f} {obj.unit} "
            f"· {revision.procedure.code}-{revision.revision}"
        )


class ProficiencyResultForm(forms.Form):
    person = PersonChoiceField(
        label=_("Person"),
        queryset=None,
        error_messages={
            "invalid_choice": _("Choose a current member of this company."),
            "required": _("Choose the person."),
        },
    )
    scope = ScopeChoiceField(
        label=_("Competence scope"),
        queryset=None,
        error_messages={
            "invalid_choice": _("Choose a competence scope from the list."),
            "required": _("Choose the competence scope."),
        },
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ProficiencyKind.choices)
    held_on = forms.DateField(
        label=_("Date of the test"), widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(
        label=_("Note (internal)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Seen by HR, experts and coordinators only; the public verify page "
            "names the test, its date and the scope."
        ),
    )

    def __init__(self, *args, people, scopes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].queryset = people
        self.fields["scope"].queryset = scopes
        self.fields["held_on"].initial = timezone.localdate()
