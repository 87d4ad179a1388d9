"""The report's bar chart as inline SVG markup, drawn on the server: no script, no style attribute (the
console's Content-Security-Policy allows neither), classes only, so the console's stylesheet and the
published page's own style both colour it. Hidden figures get no bar, only their "< 5"."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from central.transparency.disclosure import Disclosed

SERIES = (("received", "received"), ("confirmed", "confirmed"), ("rejected", "rejected"))
LABEL_W = 230
BAR_W = 320
BAR_H = 12
GAP = 10


def bar_chart(report: Disclosed) -> Markup:
    """Events received, confirmed and rejected per camera and rule, one cluster of bars each."""
    rows = [r for r in report.rows if any(r.cells[key].value or r.cells[key].hidden for key, _ in SERIES)]
    values = [r.cells[key].value or 0 for r in rows for key, _ in SERIES]
    top = max(values, default=0) or 1
    cluster = len(SERIES) * BAR_H + GAP
    height = len(rows) * cluster + 34
    width = LABEL_W + BAR_W + 70
    parts = [
        f'<svg class="report-chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-label="Events received, confirmed and rejected '
        'per camera and rule">'
    ]
    for i, row in enumerate(rows):
        y0 = i * cluster + 4
        label = escape(f"{row.camera} · {row.rule}")
        parts.append(f'<text x="{LABEL_W - 8}" y="{y0 + BAR_H * 2}" text-anchor="end">{label}</text>')
        for j, (key, _name) in enumerate(SERIES):
            shown = row.cells[key]
            y = y0 + j * BAR_H
            if shown.hidden is None and shown.value:
                length = max(1.0, BAR_W * shown.value / top)
                parts.append(
                    f'<rect class="series-{key}" x="{LABEL_W}" y="{y}" width="{length:.1f}" height="{BAR_H - 2}">'
                    f"<title>{escape(key)}: {shown.text()}</title></rect>"
                )
            else:
                length = 0.0
            parts.append(
                f'<text class="value" x="{LABEL_W + length + 4:.1f}" y="{y + BAR_H - 2}">{escape(shown.text())}</text>'
            )
    legend_y = len(rows) * cluster + 22
    for j, (key, name) in enumerate(SERIES):
        x = LABEL_W + j * 100
        parts.append(f'<rect class="series-{key}" x="{x}" y="{legend_y - 9}" width="10" height="10"/>')
        parts.append(f'<text x="{x + 14}" y="{legend_y}">{escape(name)}</text>')
    parts.append(f'<line class="axis" x1="{LABEL_W}" y1="0" x2="{LABEL_W}" y2="{len(rows) * cluster}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
