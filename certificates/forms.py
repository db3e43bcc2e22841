from functools import lru_cache

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import CertificateStatus

VERIFY_EITHER = _(
    "Enter the verification code, or the serial number together with the holder's name."
)
DATE_RANGE_WRONG = _("The start date must not be after the end date.")


@lru_cache(maxsize=32)
def _blank_form_html(form_class, language):
    return forms.Form.as_div(form_class())


class BlankHtmlCachedMixin:
    """The public verify pages show these forms blank on nearly every request:
    their blank HTML depends only on the class and the active language, so it
    is rendered once per process and language (≈ 0.5 ms of CPU per form and
    request otherwise). Bound, prefilled or customised forms render as usual."""

    def as_div(self):
        if (
            self.is_bound
            or self.initial
            or self.prefix is not None
            or self.auto_id != "id_%s"
        ):
            return super().as_div()
        return _blank_form_html(type(self), get_language())


class VerifyCodeForm(BlankHtmlCachedMixin, forms.Form):
    code = forms.CharField(
        label=_("Verification code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autocapitalize": "characters",
                "spellcheck": "false",
                "placeholder": "7K3F-9XQ2-HT6M-Q",
            }
        ),
    )


class VerifySerialForm(BlankHtmlCachedMixin, forms.Form):
    serial = forms.CharField(
        label=_("Serial number"),
        max_length=30,
        widget=forms.TextInput(attrs={"placeholder": "MTA-2026-000123"}),
    )
    name = forms.CharField(label=_("Holder's name as printed"), max_length=150)


class CompanyCertificateFilterForm(forms.Form):
    course = forms.TypedChoiceField(
        label=_("Course"), required=False, coerce=int, empty_value=None
    )
    department = forms.ChoiceField(label=_("Department"), required=False)
    issued_from = forms.DateField(
        label=_("Issued from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    issued_to = forms.DateField(
        label=_("Issued until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status")), *CertificateStatus.choices],
    )

    def __init__(self, *args, courses=(), departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["course"].choices = [("", _("All courses"))] + [
            (course_id, title) for course_id, title in courses
        ]
        self.fields["department"].choices = [("", _("All departments"))] + [
            (name, name) for name in departments
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("issued_from"), cleaned.get("issued_to")
        if start and end and start > end:
            raise forms.ValidationError(DATE_RANGE_WRONG)
        return cleaned

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "course_id": data.get("course"),
            "department": data.get("department", ""),
            "issued_from": data.get("issued_from"),
            "issued_to": data.get("issued_to"),
            "status": data.get("status", ""),
        }


class BulkVerifyForm(forms.Form):
    codes = forms.CharField(
        label=_("Verification codes"),
        widget=forms.Textarea(
            attrs={
                "rows": 12,
                "autocomplete": "off",
                "spellcheck": "false",
                "placeholder": "7K3F-9XQ2-HT6M-Q\n4D2M-8RTA-0JKQ-W",
            }
        ),
        help_text=_("Up to 200 codes, one per line or separated by commas or spaces."),
    )
