"""Thin views: published issuer/keys/status lists, downloads, verification."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from certificates import ratelimit
from certificates.models import Certificate
from certificates.services import certificate_verify_code, client_key

from . import services
from .models import SigningKey, StatusList, StatusPurpose
from .permissions import can_download_credential

JSON_LD = "application/ld+json"
VC_JWT = "application/vc+jwt"
CODE_NOT_FOUND = "No certificate has this verification code."


def _json(data: dict, *, content_type: str = "application/json", status: int = 200):
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type=f"{content_type}; charset=utf-8",
        status=status,
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@cache_control(max_age=3600, public=True)
def issuer(request):
    return _json(services.issuer_profile(), content_type=JSON_LD)


@require_GET
@cache_control(max_age=300, public=True)
def jwks_view(request):
    return _json(services.jwks(), content_type="application/jwk-set+json")


@require_GET
@cache_control(max_age=3600, public=True)
def key(request, kid: str):
    signing_key = get_object_or_404(SigningKey, kid=kid)
    return _json(signing_key.public_jwk, content_type="application/jwk+json")


@require_GET
@cache_control(max_age=60, public=True)
def status_list(request, list_id: int, purpose: str):
    if purpose not in StatusPurpose.values:
        raise Http404
    status = get_object_or_404(StatusList, pk=list_id)
    if request.GET.get("format") == "json":
        return _json(
            services.status_list_credential(status_list=status, purpose=purpose),
            content_type=JSON_LD,
        )
    token = services.status_list_jwt(status_list=status, purpose=purpose)
    response = HttpResponse(token, content_type=VC_JWT)
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _credential_for(request, certificate_id: int):
    certificate = get_object_or_404(Certificate, pk=certificate_id)
    if not can_download_credential(request.user, certificate):
        raise PermissionDenied
    return certificate, services.credential_issue(certificate=certificate)


def _attachment(response, certificate, extension: str):
    response["Content-Disposition"] = content_disposition_header(
        True, f"{certificate.serial}-openbadge.{extension}"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def download_json(request, certificate_id: int):
    certificate, credential = _credential_for(request, certificate_id)
    response = HttpResponse(
        json.dumps(credential.payload, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    return _attachment(response, certificate, "json")


@login_required
@require_GET
def download_jwt(request, certificate_id: int):
    certificate, credential = _credential_for(request, certificate_id)
    response = HttpResponse(credential.jwt, content_type=VC_JWT)
    return _attachment(response, certificate, "jwt")


def _report_for_code(request, code: str):
    """(report, error, HTTP status); the lookup is logged like the verify page's."""
    verification = certificate_verify_code(
        raw_code=code, client=client_key(ratelimit.client_ip(request)), method="ob3"
    )
    if verification.error:
        return None, verification.error, 400
    if verification.certificate is None:
        return None, _(CODE_NOT_FOUND), 404
    credential = services.credential_issue(certificate=verification.certificate)
    return services.credential_verify(token=credential.jwt), "", 200


def _allowed(request) -> bool:
    return ratelimit.allow(client_key(ratelimit.client_ip(request)))


RATE_LIMITED = "Too many verifications from your network. Please wait a minute."


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """HTML page: paste a VC-JWT, or ?code=<verification code>."""
    context: dict = {"token": "", "code": ""}
    status = 200
    if request.method == "POST" or request.GET.get("code"):
        if not _allowed(request):
            context["error"] = _(RATE_LIMITED)
            status = 429
        elif request.method == "POST":
            context["token"] = request.POST.get("token", "")
            context["report"] = services.credential_verify(token=context["token"])
        else:
            context["code"] = request.GET["code"][:40]
            report, error, status = _report_for_code(request, context["code"])
            context["report"], context["error"] = report, error
    response = render(request, "credentials/verify.html", context, status=status)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def verify_api(request):
    """JSON API: POST a VC-JWT (raw body, JSON {"credential": ...} or form
    field ``token``) or GET ?code=<verification code>."""
    if not _allowed(request):
        return JsonResponse({"valid": False, "errors": [_(RATE_LIMITED)]}, status=429)
    if request.method == "GET":
        code = request.GET.get("code", "")[:40]
        if not code:
            return JsonResponse(
                {"valid": False, "errors": [str(services.TOKEN_EMPTY)]}, status=400
            )
        report, error, status = _report_for_code(request, code)
        if error:
            return JsonResponse({"valid": False, "errors": [error]}, status=status)
        return JsonResponse(report.as_dict(), json_dumps_params={"ensure_ascii": False})
    token = _token_from_body(request)
    report = services.credential_verify(token=token)
    status = 200 if report.payload is not None or report.valid else 400
    return JsonResponse(
        report.as_dict(), status=status, json_dumps_params={"ensure_ascii": False}
    )


def _token_from_body(request) -> str:
    if request.content_type == "application/x-www-form-urlencoded":
        return request.POST.get("token", "")
    if len(request.body) > services.MAX_TOKEN_LENGTH + 1024:
        return "x" * (services.MAX_TOKEN_LENGTH + 1)  # reported as too long
    body = request.body.decode("utf-8", errors="replace").strip()
    if request.content_type == "application/json":
        try:
            data = json.loads(body)
        except ValueError:
            return body
        if isinstance(data, dict):
            return str(data.get("credential") or data.get("token") or "")
        return ""
    return body


# --- failed proficiency tests -----------------------------------------------------


def _proficiency_company(request, company_id: int):
    from organizations.models import Company

    from .permissions import can_record_proficiency_for_company

    company = get_object_or_404(Company, pk=company_id)
    if not can_record_proficiency_for_company(request.user, company):
        raise PermissionDenied
    return company


@login_required
def proficiency_companies(request):
    """The companies whose people the user may record proficiency failures for."""
    from .selectors import proficiency_company_list_for_user

    companies = proficiency_company_list_for_user(user=request.user)
    if not companies:
        raise PermissionDenied
    return render(
        request, "credentials/proficiency_companies.html", {"companies": companies}
    )


@login_required
@require_http_methods(["GET", "POST"])
def company_proficiency(request, company_id: int):
    """List a company's recorded PT/ILC failures and record a new one."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError
    from django.shortcuts import redirect

    from .forms import ProficiencyResultForm
    from .selectors import (
        proficiency_people_for,
        proficiency_result_list_for_company,
        proficiency_scopes_for,
    )

    company = _proficiency_company(request, company_id)
    form = ProficiencyResultForm(
        request.POST or None,
        people=proficiency_people_for(user=request.user, company=company),
        scopes=proficiency_scopes_for(user=request.user, company=company),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = services.proficiency_result_record(
                    actor=request.user,
                    company=company,
                    user=data["person"],
                    scope=data["scope"],
                    kind=data["kind"],
                    held_on=data["held_on"],
                    note=data["note"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _(
                        "Recorded. %(count)s certificate(s) of %(name)s are "
                        "suspended until a practical assessment passes."
                    )
                    % {"count": result.credentials.count(), "name": result.user.name},
                )
                return redirect("credentials:company_proficiency", company.pk)
        status = 400
    results = proficiency_result_list_for_company(user=request.user, company=company)
    return render(
        request,
        "credentials/company_proficiency.html",
        {"company": company, "form": form, "results": results[:100]},
        status=status,
    )
