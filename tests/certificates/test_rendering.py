import base64
from datetime import date
from decimal import Decimal
from xml.etree import ElementTree

from certificates.admin_views import sample_certificate
from certificates.rendering import (
    CONTENT_WIDTH_MM,
    FACT_WIDTH_MM,
    certificate_context,
    certificate_facts,
    frame_data_uri,
)


def _svg(uri: str) -> ElementTree.Element:
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    # Our own generated SVG, not untrusted input.
    return ElementTree.fromstring(base64.b64decode(uri[len(prefix) :]))  # noqa: S314


def test_frame_is_one_svg_in_the_design_colours():
    root = _svg(frame_data_uri("#8B1E1E", "#B08D57"))
    assert root.get("viewBox") == "0 0 297 210"
    strokes = [element.get("stroke") for element in root]
    assert strokes == ["#8B1E1E", "#B08D57", "#8B1E1E"]  # frame, inner, corners
    corners = root[2].get("d")
    assert corners.count("M") == 4


def test_frame_follows_the_certificates_design_snapshot():
    certificate = sample_certificate()
    certificate.design_snapshot = {
        **certificate.design_snapshot,
        "accent_color": "#123456",
        "accent_soft_color": "#654321",
    }
    root = _svg(certificate_context(certificate)["frame_data_uri"])
    assert {element.get("stroke") for element in root} == {"#123456", "#654321"}


def test_fact_columns_are_centred_and_bilingual():
    certificate = sample_certificate()
    facts = certificate_facts(certificate)
    assert [fact["label"] for fact in facts] == [
        "学时 Training hours",
        "成绩 Score",
        "完成日期 Completed",
        "发证日期 Issued",
        "有效期至 Valid until",
    ]
    assert facts[2]["value"] == "2026年11月20日"
    assert facts[2]["value_en"] == "20 Nov 2026"
    lefts = [float(fact["left_mm"]) for fact in facts]
    right_edge = lefts[-1] + FACT_WIDTH_MM
    assert abs(lefts[0] - (CONTENT_WIDTH_MM - right_edge)) < 0.01


def test_facts_leave_out_what_the_certificate_does_not_print():
    certificate = sample_certificate()
    certificate.hours = Decimal("0")
    certificate.score = None
    certificate.valid_until = None
    certificate.completed_on = date(2026, 1, 2)
    facts = certificate_facts(certificate)
    labels = [fact["label"] for fact in facts]
    assert "成绩 Score" not in labels and "学时 Training hours" not in labels
    assert facts[-1]["value"] == "长期有效"
    assert facts[-1]["value_en"] == "No expiry"
    assert facts[0]["value"] == "2026年1月2日"
