"""Thin views: verify (public), download (holder, HR, coordinators), HR lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from academy.security import security_event
from organizations.models import Company
from organizations.selectors import company_department_list

from . import ratelimit
from .exports import pdf_filename, zip_stream
from .forms import CompanyCertificateFilterForm, VerifyCodeForm, VerifySerialForm
from .models import Certificate, VerificationResult
from .permissions import can_download_certificate, can_download_company_certificates
from .rendering import verify_url
from .selectors import certificate_list_for_company, certificate_list_for_learner
from .services import (
    certificate_verify_code,
    certificate_verify_serial,
    client_key,
    verification_record,
)

RATE_LIMITED = gettext_lazy(
    "Too many verifications from your network. Please wait a minute."
)


def _noindex(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _rate_limited(request, client: str, method: str, query: str):
    verification_record(
        client=client,
        method=method,
        query=query[:40],
        result=VerificationResult.RATE_LIMITED,
    )
    response = render(
        request,
        "certificates/verify.html",
        {
            "code_form": VerifyCodeForm(),
            "serial_form": VerifySerialForm(),
            "error": RATE_LIMITED,
        },
        status=429,
    )
    response["Retry-After"] = "60"
    return _noindex(response)


def _result_page(request, verification, *, code_form=None, serial_form=None):
    certificate = verification.certificate
    context = {
        "verification": verification,
        "certificate": certificate,
        "status": verification.result,
        "code_form": code_form or VerifyCodeForm(),
        "serial_form": serial_form or VerifySerialForm(),
        "error": verification.error,
        "today": timezone.localdate(),
    }
    if certificate is not None:
        context["verify_url"] = verify_url(certificate)
        context["replacement"] = getattr(certificate, "replaced_by", None)
    status = 200
    if verification.result == VerificationResult.NOT_FOUND:
        status = 404
    elif verification.result == VerificationResult.INVALID:
        status = 400
    return _noindex(render(request, "certificates/verify.html", context, status=status))


@never_cache
@require_GET
def verify_code(request, code: str):
    client = client_key(ratelimit.client_ip(request))
    if not ratelimit.allow(client):
        return _rate_limited(request, client, "qr", code)
    verification = certificate_verify_code(raw_code=code, client=client, method="qr")
    return _result_page(
        request, verification, code_form=VerifyCodeForm(initial={"code": code})
    )


@never_cache
@require_http_methods(["GET", "POST"])
def verify_form(request):
    """``GET ?code=`` looks a code up; ``POST`` serial plus holder's name."""
    client = client_key(ratelimit.client_ip(request))
    if request.method == "POST":
        serial_form = VerifySerialForm(request.POST)
        if not ratelimit.allow(client):
            return _rate_limited(request, client, "serial", "")
        if serial_form.is_valid():
            verification = certificate_verify_serial(
                serial=serial_form.cleaned_data["serial"],
                holder_name=serial_form.cleaned_data["name"],
                client=client,
            )
            return _result_page(request, verification, serial_form=serial_form)
        return _noindex(
            render(
                request,
                "certificates/verify.html",
                {"code_form": VerifyCodeForm(), "serial_form": serial_form},
                status=400,
            )
        )
    if "code" in request.GET:
        code_form = VerifyCodeForm(request.GET)
        if not ratelimit.allow(client):
            return _rate_limited(request, client, "code", request.GET.get("code", ""))
        if code_form.is_valid():
            verification = certificate_verify_code(
                raw_code=code_form.cleaned_data["code"], client=client
            )
            if verification.certificate is not None:
                return redirect(
                    "certificates:verify_code", code=verification.certificate.code
                )
            return _result_page(request, verification, code_form=code_form)
        return _noindex(
            render(
                request,
                "certificates/verify.html",
                {"code_form": code_form, "serial_form": VerifySerialForm()},
                status=400,
            )
        )
    return _noindex(
        render(
            request,
            "certificates/verify.html",
            {"code_form": VerifyCodeForm(), "serial_form": VerifySerialForm()},
        )
    )


@login_required
def my_certificates(request):
    certificates = certificate_list_for_learner(user=request.user)
    return render(
        request,
        "certificates/my_certificates.html",
        {"certificates": certificates},
    )


@login_required
def download(request, certificate_id: int):
    certificate = get_object_or_404(Certificate, pk=certificate_id)
    if not can_download_certificate(request.user, certificate):
        raise PermissionDenied
    if not certificate.is_pdf_ready:
        raise Http404(_("The PDF of this certificate is still being prepared."))
    if certificate.user_id != request.user.pk:
        security_event(
            "certificate_downloaded",
            request=request,
            certificate_id=certificate.pk,
            serial=certificate.serial,
        )
    return FileResponse(
        certificate.pdf.open("rb"),
        as_attachment="inline" not in request.GET,
        filename=pdf_filename(certificate),
        content_type="application/pdf",
    )


def _company(request, company_id: int) -> Company:
    company = get_object_or_404(Company, pk=company_id)
    if not can_download_company_certificates(request.user, company):
        raise PermissionDenied
    return company


def _filter_form(request, company: Company) -> CompanyCertificateFilterForm:
    courses = (
        Certificate.objects.for_company(company)
        .order_by("course_title")
        .values_list("course_id", "course_title")
        .distinct()
    )
    return CompanyCertificateFilterForm(
        request.GET or None,
        courses=list(dict(courses).items()),
        departments=company_department_list(company=company),
    )


@login_required
def company_certificates(request, company_id: int):
    company = _company(request, company_id)
    filters = _filter_form(request, company)
    certificates = certificate_list_for_company(company=company, **filters.filters())
    page = Paginator(certificates, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "certificates/company_certificates.html",
        {
            "company": company,
            "filters": filters,
            "page": page,
            "query": query.urlencode(),
        },
    )


@login_required
def company_certificates_zip(request, company_id: int):
    company = _company(request, company_id)
    filters = _filter_form(request, company)
    if filters.is_bound and not filters.is_valid():
        return render(
            request,
            "certificates/company_certificates.html",
            {"company": company, "filters": filters, "page": None, "query": ""},
            status=400,
        )
    certificates = certificate_list_for_company(company=company, **filters.filters())
    security_event(
        "export_downloaded",
        request=request,
        export="certificates_zip",
        company_id=company.pk,
        filters=request.GET.urlencode(),
    )
    name = (
        f"{company.short_name or company.name}_证书_{timezone.localdate():%Y%m%d}.zip"
    )
    response = StreamingHttpResponse(
        zip_stream(certificates.iterator(chunk_size=200)),
        content_type="application/zip",
    )
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "private, no-store"
    response["X-Accel-Buffering"] = "no"
    return response
