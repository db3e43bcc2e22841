"""Server-rendered SVG charts (no JavaScript, no CDN).

Each chart has a <title>/<desc>, text values on the marks and a legend, so it
reads at a glance and without colour; the templates add a data table too.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

COLORS = {
    "bar": "#2f6f9f",
    "line": "#c0792b",
    "valid": "#2e7d32",
    "expiring": "#d9a400",
    "expired": "#9e9e9e",
    "revoked": "#b3261e",
    "grid": "#e3e3e3",
    "text": "#333333",
}


def _nice_max(value: float) -> float:
    if value <= 0:
        return 4
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value <= step * 4:
            return step * 4
    magnitude = 10 ** (len(str(int(value))) - 1)
    return ((int(value) // magnitude) + 1) * magnitude


def _num(value) -> str:
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def monthly_chart(monthly: list[dict]) -> SafeString:
    """Bars: completions per month; line: credited training hours per month."""
    width, height = 720, 260
    left, right, top, bottom = 44, 48, 24, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(monthly))
    slot = plot_w / n
    max_c = _nice_max(max((m["completions"] for m in monthly), default=0))
    max_h = _nice_max(float(max((m["hours"] for m in monthly), default=0)))
    title = _("Completions and training hours per month")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="chart-monthly-title" class="hr-chart">',
        f'<title id="chart-monthly-title">{escape(title)}</title>',
    ]
    for i in range(5):
        y = top + plot_h - plot_h * i / 4
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{COLORS["grid"]}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{COLORS["bar"]}">{_num(max_c * i / 4)}</text>'
            f'<text x="{left + plot_w + 6}" y="{y + 4:.1f}" font-size="11" '
            f'fill="{COLORS["line"]}">{_num(max_h * i / 4)}</text>'
        )
    points = []
    for i, m in enumerate(monthly):
        x = left + slot * i
        bar_h = plot_h * m["completions"] / max_c
        bar_w = slot * 0.6
        bx = x + (slot - bar_w) / 2
        label = f"{m['month']:%Y-%m}"
        completions_word = escape(_("completions"))
        hours_word = escape(_("hours"))
        parts.append(
            f'<rect x="{bx:.1f}" y="{top + plot_h - bar_h:.1f}" width="{bar_w:.1f}" '
            f'height="{bar_h:.1f}" fill="{COLORS["bar"]}">'
            f"<title>{escape(label)}: {m['completions']} "
            f"{completions_word}, {_num(m['hours'])} "
            f"{hours_word}</title></rect>"
        )
        if m["completions"]:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{top + plot_h - bar_h - 4:.1f}" '
                f'text-anchor="middle" font-size="11" fill="{COLORS["text"]}">'
                f"{m['completions']}</text>"
            )
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" '
            f'text-anchor="middle" font-size="11" fill="{COLORS["text"]}">'
            f"{m['month']:%m}</text>"
        )
        if i == 0 or m["month"].month == 1:
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 30}" '
                f'text-anchor="middle" font-size="10" fill="{COLORS["text"]}">'
                f"{m['month']:%Y}</text>"
            )
        hy = top + plot_h - plot_h * float(m["hours"]) / max_h
        points.append(f"{x + slot / 2:.1f},{hy:.1f}")
    if points:
        parts.append(
            f'<polyline points="{" ".join(points)}" fill="none" '
            f'stroke="{COLORS["line"]}" stroke-width="2.5"/>'
        )
        for point in points:
            px, py = point.split(",")
            parts.append(
                f'<circle cx="{px}" cy="{py}" r="3.5" fill="#fff" '
                f'stroke="{COLORS["line"]}" stroke-width="2"/>'
            )
    completed_legend = escape(_("Courses completed (left axis)"))
    hours_legend = escape(_("Training hours credited (right axis)"))
    parts.append(
        f'<g font-size="12" fill="{COLORS["text"]}">'
        f'<rect x="{left}" y="4" width="12" height="12" fill="{COLORS["bar"]}"/>'
        f'<text x="{left + 16}" y="14">{completed_legend}'
        f"</text>"
        f'<line x1="{left + 260}" x2="{left + 280}" y1="10" y2="10" '
        f'stroke="{COLORS["line"]}" stroke-width="2.5"/>'
        f'<text x="{left + 286}" y="14">'
        f"{hours_legend}</text></g>"
    )
    parts.append("</svg>")
    # Every text interpolated above goes through escape(); numbers are ints.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703


STATUS_KEYS = ("valid", "expiring", "expired", "revoked")


def status_labels() -> dict[str, str]:
    return {
        "valid": _("Valid"),
        "expiring": _("Expiring ≤ 90 days"),
        "expired": _("Expired"),
        "revoked": _("Revoked"),
    }


def certificate_status_chart(rows: list[dict]) -> SafeString:
    """Horizontal stacked bars: certificate status per course."""
    labels = status_labels()
    bar_h, gap, label_w, width = 20, 10, 230, 720
    top = 30
    height = top + len(rows) * (bar_h + gap) + 10
    plot_w = width - label_w - 50
    biggest = max((r["total"] for r in rows), default=1) or 1
    title = _("Certificate status per course")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="chart-certs-title" class="hr-chart">',
        f'<title id="chart-certs-title">{escape(title)}</title>',
        f'<g font-size="12" fill="{COLORS["text"]}">',
    ]
    x = 0
    for key in STATUS_KEYS:
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{COLORS[key]}"/>'
            f'<text x="{x + 16}" y="14">{escape(labels[key])}</text>'
        )
        x += 40 + len(labels[key]) * 9
    parts.append("</g>")
    for i, row in enumerate(rows):
        y = top + i * (bar_h + gap)
        name = f"{row['course_code']} {row['course_title']}"
        if len(name) > 20:
            name = name[:19] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 14}" text-anchor="end" font-size="12" '
            f'fill="{COLORS["text"]}">{escape(name)}</text>'
        )
        cursor = label_w
        for key in STATUS_KEYS:
            count = row[key]
            if not count:
                continue
            w = plot_w * count / biggest
            parts.append(
                f'<rect x="{cursor:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{COLORS[key]}"><title>{escape(name)} · '
                f"{escape(labels[key])}: {count}</title></rect>"
            )
            if w >= 18:
                parts.append(
                    f'<text x="{cursor + w / 2:.1f}" y="{y + 14}" text-anchor="middle" '
                    f'font-size="11" fill="#fff">{count}</text>'
                )
            cursor += w
        parts.append(
            f'<text x="{cursor + 6:.1f}" y="{y + 14}" font-size="11" '
            f'fill="{COLORS["text"]}">{row["total"]}</text>'
        )
    parts.append("</svg>")
    # Every text interpolated above goes through escape(); numbers are ints.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703
