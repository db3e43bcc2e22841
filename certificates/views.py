"""Thin views: verify (public), download (holder, HR, coordinators), HR lists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from academy.security import security_event
from organizations.models import Company
from organizations.selectors import company_department_list

from . import ratelimit
from .exports import pdf_filename, zip_stream
from .forms import CompanyCertificateFilterForm, VerifyCodeForm, VerifySerialForm
from .models import Certificate, VerificationResult
from .permissions import can_download_certificate, can_download_company_certificates
from .rendering import scope_rows
from .selectors import certificate_list_for_company, certificate_list_for_learner
from .services import (
    certificate_verify_code,
    certificate_verify_serial,
    client_key,
    verification_record,
)
from .templatetags.certificates_tags import bilingual

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
    }
    if certificate is not None:
        # Only a superseded certificate has a replacement: no query otherwise.
        context["replacement"] = (
            getattr(certificate, "replaced_by", None)
            if certificate.superseded_at
            else None
        )
        context.update(credential_status(certificate, verification.result))
    status = 200
    if verification.result == VerificationResult.NOT_FOUND:
        status = 404
    elif verification.result == VerificationResult.INVALID:
        status = 400
    return _noindex(render(request, "certificates/verify.html", context, status=status))


def credential_status(certificate: Certificate, status: str) -> dict:
    """The credential's part of the verify page: the banner to show (a valid
    certificate whose credential is suspended or needs renewal says so), the
    frozen scopes and the status history (what, when, why; never who)."""
    credential = getattr(certificate, "credential", None)
    if credential is None:
        return {"credential": None, "banner": status, "scopes": [], "history": []}
    banner = status
    if status == VerificationResult.VALID:
        if credential.suspended_at:
            banner = "suspended"
        elif credential.renewal_required_at:
            banner = "renewal_required"
    return {
        "credential": credential,
        "banner": banner,
        "scopes": scope_rows(credential.scopes),
        "history": [
            {"at": event.at, "what": _event_label(event.kind), "why": event.note}
            for event in credential.events.all()
        ],
    }


def _event_label(kind: str) -> str:
    from credentials.models import CredentialEventKind

    try:
        label = CredentialEventKind(kind).label
    except ValueError:
        return kind
    with translation.override("en"):
        english = str(label)
    return bilingual(english)


@never_cache
@require_GET
def verify_code(request, code: str):
    client = client_key(ratelimit.client_ip(request))
    if not ratelimit.allow(client):
        return _rate_limited(request, client, "qr", code)
    verification = certificate_verify_code(raw_code=code, client=client, method="qr")
    # A code that matched nothing stays in the form, to be corrected. A found
    # certificate shows its code in the facts, so the form is blank for the
    # next code, and its HTML is the cached one (prefilled: ≈ 0.35 ms of CPU).
    if verification.certificate is None:
        code_form = VerifyCodeForm(initial={"code": code})
    else:
        code_form = VerifyCodeForm()
    return _result_page(request, verification, code_form=code_form)


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


# --- bulk code check (public) ---------------------------------------------------


def _bulk_allowed(client: str) -> bool:
    """Bulk checks have their own, smaller budget per client (a request may
    hold 200 codes)."""
    return ratelimit.allow(
        client,
        name="bulk",
        setting="CERTIFICATES_BULK_VERIFY_RATE_LIMIT",
        default=(10, 60),
    )


def _bulk_rate_limited(client: str):
    verification_record(
        client=client,
        method="bulk",
        query="",
        result=VerificationResult.RATE_LIMITED,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def verify_bulk(request):
    """Paste up to 200 codes, get a status table."""
    from django.core.exceptions import ValidationError

    from .codes import split_codes
    from .forms import BulkVerifyForm
    from .services import BulkStatus, certificate_verify_codes

    form = BulkVerifyForm(request.POST or None)
    context = {"form": form, "rows": None, "labels": BulkStatus.LABELS}
    status = 200
    if request.method == "POST":
        client = client_key(ratelimit.client_ip(request))
        if not _bulk_allowed(client):
            _bulk_rate_limited(client)
            context["error"] = RATE_LIMITED
            response = render(
                request, "certificates/verify_bulk.html", context, status=429
            )
            response["Retry-After"] = "60"
            return _noindex(response)
        if form.is_valid():
            try:
                rows = certificate_verify_codes(
                    raw_codes=split_codes(form.cleaned_data["codes"]), client=client
                )
            except ValidationError as error:
                context["error"] = " ".join(error.messages)
                status = 400
            else:
                context["rows"] = rows
                context["summary"] = {
                    key: sum(1 for r in rows if r.status == key)
                    for key in BulkStatus.LABELS
                }
        else:
            status = 400
    return _noindex(
        render(request, "certificates/verify_bulk.html", context, status=status)
    )


def _bulk_row_json(request, row) -> dict:
    from .services import BulkStatus

    certificate = row.certificate
    data = {
        "input": row.typed,
        "code": row.code_display or None,
        "status": row.status,
        "status_label": str(BulkStatus.LABELS[row.status]),
        "error": row.error or None,
        "holder": None,
        "course": None,
        "valid_until": None,
        "url": None,
    }
    if certificate is not None:
        data.update(
            holder=certificate.holder_name,
            course=certificate.course_title,
            serial=certificate.serial,
            valid_until=(
                certificate.valid_until.isoformat() if certificate.valid_until else None
            ),
            url=request.build_absolute_uri(verify_path(certificate.code)),
        )
    return data


def verify_path(code: str) -> str:
    from django.urls import reverse

    return reverse("certificates:verify_code", args=[code])


def _bulk_codes_from_body(request) -> list[str] | None:
    """``{"codes": ["…", …]}`` or ``{"codes": "text"}`` as JSON, or the text
    as the raw body / form field ``codes``; None when unreadable."""
    import json

    from .codes import split_codes

    if request.content_type == "application/json":
        try:
            data = json.loads(request.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None
        codes = data.get("codes") if isinstance(data, dict) else None
        if isinstance(codes, str):
            return split_codes(codes)
        if isinstance(codes, list) and all(isinstance(c, str) for c in codes):
            return [c.strip() for c in codes if c.strip()]
        return None
    if request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return split_codes(request.POST.get("codes", ""))
    try:
        return split_codes(request.body.decode("utf-8"))
    except UnicodeDecodeError:
        return None


@csrf_exempt
@never_cache
@require_http_methods(["POST"])
def verify_bulk_json(request):
    """JSON API of the bulk check: 200 with ``results``; 400 unreadable, empty
    or more than 200 codes (nothing looked up); 429 rate limited."""
    from django.core.exceptions import ValidationError
    from django.http import JsonResponse

    from .services import BULK_MAX_CODES, certificate_verify_codes

    client = client_key(ratelimit.client_ip(request))
    if not _bulk_allowed(client):
        _bulk_rate_limited(client)
        response = JsonResponse({"error": str(RATE_LIMITED)}, status=429)
        response["Retry-After"] = "60"
        return _noindex(response)
    codes = _bulk_codes_from_body(request)
    if codes is None:
        return _noindex(
            JsonResponse(
                {"error": _('Send JSON {"codes": ["…"]} or the codes as plain text.')},
                status=400,
            )
        )
    try:
        rows = certificate_verify_codes(raw_codes=codes, client=client)
    except ValidationError as error:
        return _noindex(
            JsonResponse(
                {"error": " ".join(error.messages), "max": BULK_MAX_CODES}, status=400
            )
        )
    return _noindex(
        JsonResponse(
            {"count": len(rows), "results": [_bulk_row_json(request, r) for r in rows]},
            json_dumps_params={"ensure_ascii": False},
        )
    )
