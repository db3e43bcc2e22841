from datetime import date
from decimal import Decimal

from hr.charts import certificate_status_chart, monthly_chart


def test_monthly_chart_has_values_and_labels():
    svg = monthly_chart(
        [
            {"month": date(2026, 1, 1), "completions": 3, "hours": Decimal("24.0")},
            {"month": date(2026, 2, 1), "completions": 0, "hours": Decimal("0")},
        ]
    )
    assert svg.startswith("<svg")
    assert 'role="img"' in svg
    assert ">3</text>" in svg  # the value is written on the bar
    assert "2026-01: 3 completions, 24 hours" in svg
    assert "<polyline" in svg


def test_certificate_chart_escapes_titles():
    svg = certificate_status_chart(
        [
            {
                "course_code": "PG-101",
                "course_title": "<script>alert(1)</script>",
                "valid": 2,
                "expiring": 1,
                "expired": 0,
                "revoked": 1,
                "total": 4,
            }
        ]
    )
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "Valid: 2" in svg and "Revoked: 1" in svg


def test_empty_charts_render():
    assert monthly_chart([]).startswith("<svg")
    assert certificate_status_chart([]).startswith("<svg")
