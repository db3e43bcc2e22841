"""The template context of a certificate PDF, built from its frozen snapshot."""

from __future__ import annotations

import base64
import mimetypes
from datetime import date

import segno
from django.conf import settings
from django.urls import reverse

from .models import Certificate

MONTHS_EN = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
]  # fmt: skip
SEAL_MAX_BYTES = 2 * 1024 * 1024


def date_zh(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def date_en(day: date | None) -> str:
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}" if day else ""


def public_base_url() -> str:
    return getattr(settings, "ACADEMY_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip(
        "/"
    )


def verify_url(certificate: Certificate) -> str:
    return public_base_url() + reverse(
        "certificates:verify_code", kwargs={"code": certificate.code}
    )


def qr_data_uri(url: str) -> str:
    """The verify URL as a vector QR code (SVG data URI)."""
    return segno.make(url, error="m").svg_data_uri(scale=1, border=2, nl=False)


def seal_data_uri(image) -> str:
    """An image snippet's original file as a data URI (read here, not fetched)."""
    if image is None:
        return ""
    try:
        with image.file.open("rb") as handle:
            data = handle.read(SEAL_MAX_BYTES + 1)
    except (OSError, ValueError):
        return ""
    if len(data) > SEAL_MAX_BYTES:
        return ""
    content_type = mimetypes.guess_type(image.file.name)[0] or "image/png"
    if not content_type.startswith("image/"):
        return ""
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def design_snapshot(design) -> dict:
    """What a certificate keeps of its design at issue."""
    return {
        "name": design.name,
        "title_zh": design.title_zh,
        "title_en": design.title_en,
        "accent_color": design.accent_color,
        "accent_soft_color": design.accent_soft_color,
        "signatory_label": design.signatory_label,
        "seal_data_uri": seal_data_uri(design.seal_image),
    }


DEFAULT_DESIGN = {
    "name": "default",
    "title_zh": "结业证书",
    "title_en": "Certificate of Completion",
    "accent_color": "#8B1E1E",
    "accent_soft_color": "#B08D57",
    "signatory_label": "授课专家 Expert",
    "seal_data_uri": "",
}


def _number(value) -> str:
    if value is None:
        return ""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


LEVEL_LABELS = {
    "trainee": "学员 Trainee",
    "supervised": "可在指导下操作 May perform under supervision",
    "perform": "可独立操作 May perform",
    "approve": "可批准并签署结果 May approve and sign results",
}


def scope_rows(scopes: list[dict]) -> list[dict]:
    """Frozen competence scopes (``Credential.scopes``) as printed rows."""
    rows = []
    for scope in scopes or []:
        rows.append(
            {
                "instrument_class": scope.get("instrument_class", ""),
                "quantity": scope.get("quantity", ""),
                "range": (
                    f"{scope.get('range_min', '')}~{scope.get('range_max', '')} "
                    f"{scope.get('unit', '')}"
                ).strip(),
                "accuracy_class": scope.get("accuracy_class", ""),
                "procedure": "-".join(
                    part
                    for part in (scope.get("procedure"), scope.get("revision"))
                    if part
                ),
                "level": LEVEL_LABELS.get(
                    scope.get("level", ""), scope.get("level_label", "")
                ),
            }
        )
    return rows


def certificate_context(
    certificate: Certificate, *, scopes: list[dict] | None = None
) -> dict:
    url = verify_url(certificate)
    design = {**DEFAULT_DESIGN, **(certificate.design_snapshot or {})}
    return {
        "serial": certificate.serial,
        "code_display": certificate.code_display,
        "verify_url": url,
        "qr_data_uri": qr_data_uri(url),
        "holder_name": certificate.holder_name,
        "holder_latin_name": certificate.holder_latin_name,
        "company_name": certificate.company_name,
        "course_title": certificate.course_title,
        "course_title_en": certificate.course_title_en,
        "scope": certificate.scope,
        "scopes": scope_rows(scopes or []),
        "hours": _number(certificate.hours),
        "score": _number(certificate.score) if certificate.score is not None else None,
        "completed_on_zh": date_zh(certificate.completed_on),
        "completed_on_en": date_en(certificate.completed_on),
        "issued_on_zh": date_zh(certificate.issued_on),
        "issued_on_en": date_en(certificate.issued_on),
        "valid_until_zh": date_zh(certificate.valid_until),
        "valid_until_en": date_en(certificate.valid_until),
        "issuer_name": certificate.issuer_name,
        "issuer_name_en": certificate.issuer_name_en,
        "signatory_name": certificate.signatory_name,
        "design": design,
    }
