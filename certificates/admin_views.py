"""Coordinator actions in the Wagtail admin: issue by hand, revoke, re-issue,
retry a failed render, preview a design. Each calls one service."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from courses.models import CoursePage
from users.models import User

from . import services
from .models import Certificate, CertificateDesign, RenderStatus
from .permissions import can_issue_certificate, can_manage_certificate_designs


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Kept in the certificate's log."),
    )


class ReissueForm(ReasonForm):
    holder_name = forms.CharField(label=gettext_lazy("Holder's name"), max_length=100)
    holder_latin_name = forms.CharField(
        label=gettext_lazy("Name in Latin letters"), max_length=150, required=False
    )


class IssueForm(ReasonForm):
    email = forms.EmailField(label=gettext_lazy("Learner's e-mail address"))
    course = forms.ModelChoiceField(
        label=gettext_lazy("Course"), queryset=CoursePage.objects.order_by("title")
    )

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise ValidationError(_("No user has the e-mail address %s.") % email)
        self.cleaned_data["user"] = user
        return email


def _require_coordinator(request) -> None:
    if not can_issue_certificate(request.user):
        raise PermissionDenied


def _render_form(request, *, title, form, certificate=None, submit, danger=False):
    return TemplateResponse(
        request,
        "certificates/admin/action_form.html",
        {
            "page_title": title,
            "header_title": title,
            "form": form,
            "certificate": certificate,
            "submit_label": submit,
            "danger": danger,
        },
    )


def _inspect_url(certificate: Certificate) -> str:
    from django.urls import reverse

    return reverse(
        "wagtailsnippets_certificates_certificate:inspect", args=[certificate.pk]
    )


def issue(request):
    _require_coordinator(request)
    form = IssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            certificate = services.certificate_issue_by_hand(
                actor=request.user,
                user=form.cleaned_data["user"],
                course=form.cleaned_data["course"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Certificate %s issued.") % certificate.serial)
            return redirect(_inspect_url(certificate))
    return _render_form(
        request, title=_("Issue a certificate"), form=form, submit=_("Issue")
    )


def revoke(request, certificate_id: int):
    _require_coordinator(request)
    certificate = get_object_or_404(Certificate, pk=certificate_id)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.certificate_revoke(
                actor=request.user,
                certificate=certificate,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Certificate %s revoked.") % certificate.serial)
            return redirect(_inspect_url(certificate))
    return _render_form(
        request,
        title=_("Revoke certificate %s") % certificate.serial,
        form=form,
        certificate=certificate,
        submit=_("Revoke"),
        danger=True,
    )


def reissue(request, certificate_id: int):
    _require_coordinator(request)
    certificate = get_object_or_404(Certificate, pk=certificate_id)
    form = ReissueForm(
        request.POST or None,
        initial={
            "holder_name": certificate.user.name,
            "holder_latin_name": certificate.user.latin_name,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            new = services.certificate_reissue(
                actor=request.user,
                certificate=certificate,
                reason=form.cleaned_data["reason"],
                holder_name=form.cleaned_data["holder_name"],
                holder_latin_name=form.cleaned_data["holder_latin_name"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Certificate %(new)s issued; it replaces %(old)s.")
                % {"new": new.serial, "old": certificate.serial},
            )
            return redirect(_inspect_url(new))
    return _render_form(
        request,
        title=_("Re-issue certificate %s") % certificate.serial,
        form=form,
        certificate=certificate,
        submit=_("Re-issue"),
    )


@require_POST
def rerender(request, certificate_id: int):
    _require_coordinator(request)
    certificate = get_object_or_404(Certificate, pk=certificate_id)
    if certificate.render_status == RenderStatus.READY:
        messages.info(
            request, _("The PDF is ready; an issued PDF is never rendered again.")
        )
    else:
        try:
            services.certificate_render(certificate_id=certificate.pk)
        except Exception as error:  # noqa: BLE001 - shown to the coordinator
            messages.error(request, _("Rendering failed again: %s") % error)
        else:
            messages.success(request, _("The PDF has been rendered."))
    return redirect(_inspect_url(certificate))


def sample_certificate(design: CertificateDesign | None = None) -> Certificate:
    """An unsaved certificate with sample data, for previews and benchmarks."""
    from .rendering import DEFAULT_DESIGN, design_snapshot

    certificate = Certificate(
        serial="MTA-2026-000123",
        code="7K3F9XQ2HT6MQ",
        holder_name="刘堃",
        holder_latin_name="Liu Kun",
        company_name="苏州恒准压力仪表有限公司",
        course_title="压力表检定与校准",
        course_title_en="Verification and Calibration of Pressure Gauges",
        scope=(
            "依据 JJG 52-2013《弹性元件式一般压力表、压力真空表和真空表》"
            "开展压力表的检定与校准。"
        ),
        hours=Decimal("16.0"),
        score=Decimal("92.5"),
        completed_on=date(2026, 11, 20),
        issued_on=date(2026, 11, 25),
        valid_until=date(2029, 11, 20),
        issuer_name=design.issuer_name if design else "计量伙伴学院",
        issuer_name_en=design.issuer_name_en
        if design
        else "Metrology Partnership Academy",
        signatory_name="李建国",
        design_snapshot=design_snapshot(design) if design else dict(DEFAULT_DESIGN),
    )
    certificate.sample_scopes = [
        {
            "instrument_class": "弹簧管式一般压力表",
            "quantity": "压力",
            "range_min": "0",
            "range_max": "60",
            "unit": "MPa",
            "accuracy_class": "1.0级 / 1.6级 / 2.5级",
            "procedure": "JJG 52",
            "revision": "2013",
            "level": "perform",
        }
    ]
    return certificate


def design_preview(request, design_id: int):
    if not can_manage_certificate_designs(request.user):
        raise PermissionDenied
    design = get_object_or_404(CertificateDesign, pk=design_id)
    data = services.certificate_pdf_bytes(sample_certificate(design))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="preview.pdf"'
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response
