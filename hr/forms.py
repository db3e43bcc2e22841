from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ExportFormat, ExportKind
from .selectors import SORTS, CellStatus, CompetenceStatus
from .tabular import max_import_bytes


class MatrixFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    department = forms.ChoiceField(label=_("Department"), required=False)
    course = forms.TypedChoiceField(
        label=_("Course"), required=False, coerce=int, empty_value=None
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"), required=False, choices=[(k, k) for k in SORTS]
    )

    def __init__(self, *args, departments=(), courses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All departments"))] + [
            (name, name) for name in departments
        ]
        self.fields["course"].choices = [("", _("All courses"))] + [
            (c.pk, f"{c.code} {c.title}") for c in courses
        ]
        self.fields["status"].choices = [("", _("Any status"))] + [
            (key, CellStatus.LABELS[key]) for key in CellStatus.FILTERABLE
        ]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=_("Report"), choices=ExportKind.choices)
    fmt = forms.ChoiceField(label=_("Format"), choices=ExportFormat.choices)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV or Excel file"),
        help_text=_(
            "Columns: name, email, employee_number, department, courses (course "
            "codes separated by spaces or commas), optional due_on (YYYY-MM-DD). "
            "Chinese headers (姓名, 邮箱, 工号, 部门, 课程代码, 截止日期) work too."
        ),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_import_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s MB; files up to %(max)s MB are accepted.")
                % {
                    "size": f"{upload.size / 1024 / 1024:.1f}",
                    "max": f"{limit / 1024 / 1024:.0f}",
                }
            )
        return upload


class AssignForm(forms.Form):
    course = forms.TypedChoiceField(label=_("Course"), coerce=int)
    due_on = forms.DateField(
        label=_("Due on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    department = forms.ChoiceField(label=_("Everyone in department"), required=False)
    people = forms.CharField(
        label=_("Or these employees"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Employee numbers or e-mail addresses, separated by spaces."),
    )

    def __init__(self, *args, departments=(), courses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", "—")] + [
            (name, name) for name in departments
        ]
        self.fields["course"].choices = [(c.pk, f"{c.code} {c.title}") for c in courses]

    def clean_due_on(self):
        due = self.cleaned_data.get("due_on")
        if due and due < timezone.localdate():
            raise forms.ValidationError(_("The due date must not be in the past."))
        return due

    def clean(self):
        data = super().clean()
        if not data.get("department") and not (data.get("people") or "").strip():
            raise forms.ValidationError(_("Choose a department or list the employees."))
        return data


class DigestPreferenceForm(forms.Form):
    weekly_digest = forms.BooleanField(
        label=_("Send me the weekly HR digest by e-mail"), required=False
    )


class CompetenceFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    department = forms.ChoiceField(label=_("Department"), required=False)
    scope = forms.ChoiceField(label=_("Scope"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, departments=(), columns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("All departments"))] + [
            (name, name) for name in departments
        ]
        self.fields["scope"].choices = [("", _("All scopes"))] + [
            (c.key, c.label) for c in columns
        ]
        self.fields["status"].choices = [("", _("Any status"))] + [
            (key, CompetenceStatus.LABELS[key]) for key in CompetenceStatus.FILTERABLE
        ]

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class AuditorLinkForm(forms.Form):
    label = forms.CharField(
        label=_("Label"),
        max_length=200,
        help_text=_("Who and what the link is for, e.g. “ISO/IEC 17025 audit 2026”."),
    )
    expires_on = forms.DateField(
        label=_("Valid until"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Required; at most 90 days from today. The link stops working "
            "after this day."
        ),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Limit to these scopes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked to show every scope."),
    )

    def __init__(self, *args, columns=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [(c.key, c.label) for c in columns]
