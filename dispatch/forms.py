from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Company, Membership, Role

from .models import MetrologyTopic, VisitMode


class VisitRequestForm(forms.Form):
    company = forms.ModelChoiceField(
        queryset=Company.objects.none(), label=_("Company")
    )
    topic = forms.ModelChoiceField(
        queryset=MetrologyTopic.objects.all(), label=_("Topic")
    )
    problem = forms.CharField(
        label=_("Problem statement"), widget=forms.Textarea(attrs={"rows": 4})
    )
    instruments = forms.CharField(
        label=_("Instruments or quantities concerned"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    expected_participants = forms.IntegerField(
        label=_("Expected participants"), initial=5
    )
    site_address = forms.CharField(label=_("Site address"), required=False)
    mode = forms.ChoiceField(
        label=_("Mode"), choices=VisitMode.choices, initial=VisitMode.ON_SITE
    )
    any_date = forms.BooleanField(label=_("Any date is fine"), required=False)
    window1_start = forms.DateField(
        label=_("Preferred from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    window1_end = forms.DateField(
        label=_("until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    window2_start = forms.DateField(
        label=_("or from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    window2_end = forms.DateField(
        label=_("until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, companies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = Company.objects.filter(
            pk__in=[c.pk for c in companies]
        )
        if len(companies) == 1:
            self.fields["company"].initial = companies[0].pk

    def windows(self) -> list[dict]:
        windows = []
        for index in (1, 2):
            start = self.cleaned_data.get(f"window{index}_start")
            end = self.cleaned_data.get(f"window{index}_end")
            if start or end:
                windows.append({"start": start or end, "end": end or start})
        return windows


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]


class SlotSearchForm(forms.Form):
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until"), widget=forms.DateInput(attrs={"type": "date"})
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=30, max_value=720
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise forms.ValidationError(_("The search must end after it starts."))
        if start and end and (end - start).days > 62:
            raise forms.ValidationError(_("Search at most two months at a time."))
        return cleaned


class ProposeVisitForm(forms.Form):
    expert = forms.IntegerField(widget=forms.HiddenInput, required=False)
    starts_at = LocalDateTimeField(label=_("Starts at"))
    ends_at = LocalDateTimeField(label=_("Ends at"))
    capacity = forms.IntegerField(label=_("Capacity"), initial=10, min_value=1)
    published = forms.BooleanField(
        label=_("Show on the public schedule"), required=False, initial=True
    )


class RescheduleForm(forms.Form):
    starts_at = LocalDateTimeField(label=_("Starts at"))
    ends_at = LocalDateTimeField(label=_("Ends at"))


class BusyBlockForm(forms.Form):
    starts_at = LocalDateTimeField(label=_("From"))
    ends_at = LocalDateTimeField(label=_("Until"))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)


class ReportForm(forms.Form):
    summary = forms.CharField(
        label=_("Summary"), widget=forms.Textarea(attrs={"rows": 4})
    )
    findings = forms.CharField(
        label=_("Findings"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    recommendations = forms.CharField(
        label=_("Recommendations"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    hours_spent = forms.DecimalField(
        label=_("Hours spent"), max_digits=5, decimal_places=1, min_value=0
    )
    attachments = forms.FileField(
        label=_("Attachments"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"allow_multiple_selected": True}),
    )

    ACTION_ROWS = 3

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for index in range(self.ACTION_ROWS):
            self.fields[f"action{index}_description"] = forms.CharField(
                label=_("Follow-up action"), required=False
            )
            self.fields[f"action{index}_owner"] = forms.CharField(
                label=_("Owner"), required=False
            )
            self.fields[f"action{index}_due"] = forms.DateField(
                label=_("Due date"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
            )

    def action_rows(self):
        return [
            (
                self[f"action{index}_description"],
                self[f"action{index}_owner"],
                self[f"action{index}_due"],
            )
            for index in range(self.ACTION_ROWS)
        ]

    def actions(self) -> list[dict]:
        return [
            {
                "description": self.cleaned_data.get(f"action{index}_description", ""),
                "owner": self.cleaned_data.get(f"action{index}_owner", ""),
                "due_date": self.cleaned_data.get(f"action{index}_due"),
            }
            for index in range(self.ACTION_ROWS)
        ]


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("Rating"),
        coerce=int,
        choices=[(n, "★" * n) for n in range(5, 0, -1)],
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


def local_day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def default_search_window():
    today = timezone.localdate()
    return today + timedelta(days=1), today + timedelta(days=21)


class VisitRequesterGrantForm(forms.Form):
    """HR names a learner, by employee number or e-mail, who may request visits."""

    person = forms.CharField(
        label=_("Employee number or e-mail"),
        max_length=254,
        help_text=_("A current learner of the company."),
    )

    def __init__(self, *args, company: Company, **kwargs):
        super().__init__(*args, **kwargs)
        self.company = company

    def clean_person(self) -> Membership:
        value = self.cleaned_data["person"].strip()
        memberships = (
            Membership.objects.active()
            .filter(company=self.company)
            .select_related("user", "company")
        )
        if "@" in value:
            found = memberships.filter(user__email__iexact=value)
        else:
            found = memberships.filter(employee_number=value)
        learners = [m for m in found if m.role == Role.LEARNER]
        if len(learners) == 1:
            return learners[0]
        if len(learners) > 1:
            raise forms.ValidationError(
                _(
                    "Several learners have the employee number %(value)s; "
                    "use the e-mail instead."
                ),
                params={"value": value},
            )
        if found:
            raise forms.ValidationError(
                _("%(value)s is not a learner: HR may always request visits."),
                params={"value": value},
            )
        raise forms.ValidationError(
            _("No current employee of %(company)s has the number or e-mail %(value)s."),
            params={"company": self.company.name, "value": value},
        )
