"""The template context of a certificate PDF, built from its frozen snapshot."""

from __future__ import annotations

import base64
import mimetypes
from datetime import date
from functools import lru_cache

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


# Page geometry of the certificate in millimetres (A4 landscape).
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 297, 210
CONTENT_WIDTH_MM = 245
FACT_WIDTH_MM, FACT_GAP_MM = 38, 3


@lru_cache(maxsize=64)
def frame_data_uri(accent: str, accent_soft: str) -> str:
    """The frame, inner frame and corner marks as one SVG background.

    Drawn as a single image rather than six bordered boxes: WeasyPrint lays
    out every box in Python, and the page is rendered for every certificate.
    The result is the same for every certificate of a design, so it is cached
    (WeasyPrint also keeps the parsed image, see ``pdf.IMAGE_CACHE``).
    """
    w, h = PAGE_WIDTH_MM, PAGE_HEIGHT_MM
    corner = 14
    inset = 15.9  # corner marks: 15.5 mm from the edge plus half their stroke
    marks = []
    for x, y, dx, dy in (
        (inset, inset, 1, 1),
        (w - inset, inset, -1, 1),
        (inset, h - inset, 1, -1),
        (w - inset, h - inset, -1, -1),
    ):
        marks.append(f"M{x:g} {y + dy * corner:g}V{y:g}H{x + dx * corner:g}")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" '
        f'viewBox="0 0 {w} {h}" fill="none">'
        f'<rect x="10.1" y="10.1" width="{w - 20.2:g}" height="{h - 20.2:g}" '
        f'stroke="{accent}" stroke-width="2.2"/>'
        f'<rect x="13.2" y="13.2" width="{w - 26.4:g}" height="{h - 26.4:g}" '
        f'stroke="{accent_soft}" stroke-width="0.4"/>'
        f'<path d="{" ".join(marks)}" stroke="{accent}" stroke-width="0.8"/>'
        "</svg>"
    )
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def fact_columns(facts: list[dict]) -> list[dict]:
    """Horizontal positions of the fact columns, centred on the page."""
    count = len(facts)
    total = count * FACT_WIDTH_MM + (count - 1) * FACT_GAP_MM
    start = (CONTENT_WIDTH_MM - total) / 2
    return [
        {**fact, "left_mm": f"{start + index * (FACT_WIDTH_MM + FACT_GAP_MM):g}"}
        for index, fact in enumerate(facts)
    ]


def _dated_fact(label: str, day: date) -> dict:
    return {"label": label, "value": date_zh(day), "value_en": date_en(day)}


def certificate_facts(certificate: Certificate) -> list[dict]:
    facts = []
    if certificate.hours:
        facts.append(
            {"label": "学时 Training hours", "value": _number(certificate.hours)}
        )
    if certificate.score is not None:
        facts.append({"label": "成绩 Score", "value": f"{_number(certificate.score)}%"})
    facts.append(_dated_fact("完成日期 Completed", certificate.completed_on))
    facts.append(_dated_fact("发证日期 Issued", certificate.issued_on))
    valid_until = "有效期至 Valid until"
    if certificate.valid_until:
        facts.append(_dated_fact(valid_until, certificate.valid_until))
    else:
        no_expiry = {"value": "长期有效", "value_en": "No expiry"}
        facts.append({"label": valid_until, **no_expiry})
    return fact_columns(facts)


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
    rows = scope_rows(scopes or [])
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
        "scopes": rows,
        # Set by pdf.render_certificate when the text does not fit otherwise.
        "scopes_not_printed": 0,
        "density": "",
        # Hours, score and dates are printed through the facts; the seal
        # repeats the issue date.
        "issued_on_zh": date_zh(certificate.issued_on),
        "issuer_name": certificate.issuer_name,
        "issuer_name_en": certificate.issuer_name_en,
        "signatory_name": certificate.signatory_name,
        "facts": certificate_facts(certificate),
        "frame_data_uri": frame_data_uri(
            design["accent_color"], design["accent_soft_color"]
        ),
        "design": design,
    }
