"""The what-if figure as inline SVG drawn on the server (classes only: the console allows no inline style or
script). Bars compare precision and the share of confirmed events still caught, now and under the proposal;
one strip per moved threshold puts each reviewed event at its measured value, coloured by the decision,
beside the current and the proposed threshold."""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from markupsafe import Markup

from central.tuning import precision
from central.tuning.rejudge import RULES, SILENT
from central.tuning.whatif import Outcome

WIDTH = 640
LABEL_W = 200
PLOT_W = WIDTH - LABEL_W - 60
CLASSES = {precision.TRUE: "true", precision.FALSE: "false", precision.OTHER: "other"}


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _bars(outcome: Outcome, y0: int) -> list[str]:
    bars = (
        ("precision now", outcome.now.precision),
        ("precision proposed", outcome.kept.precision),
        ("confirmed still caught", outcome.still_caught),
    )
    parts = []
    for i, (name, value) in enumerate(bars):
        y = y0 + i * 24
        length = max(1.0, PLOT_W * (value or 0.0))
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 13}" text-anchor="end">{name}</text>')
        parts.append(f'<rect class="bar" x="{LABEL_W}" y="{y}" width="{length:.1f}" height="16"/>')
        parts.append(f'<text x="{LABEL_W + length + 6:.1f}" y="{y + 13}">{_percent(value)}</text>')
    return parts


def _strip(outcome: Outcome, rule: str, name: str, old: float, new: float, y0: int) -> list[str]:
    knob = next(k for k in RULES[rule].knobs if k.threshold == name)
    values = [
        (row, float(v))
        for row in outcome.rows
        if isinstance(v := row.event.measurements.get(knob.measurement), int | float)
        and not isinstance(v, bool)
        and not (knob.in_trace_unit and row.unit_note)  # a distance in the other unit has no place on this axis
    ]
    top = max([old, new, *(v for _, v in values)], default=1.0) * 1.1 or 1.0

    def x(value: float) -> float:
        return LABEL_W + PLOT_W * value / top

    parts = [
        f'<text x="{LABEL_W - 8}" y="{y0 + 22}" text-anchor="end">{escape(knob.measurement)}</text>',
        f'<line class="axis" x1="{LABEL_W}" y1="{y0 + 30}" x2="{LABEL_W + PLOT_W}" y2="{y0 + 30}"/>',
        f'<line class="limit-now" x1="{x(old):.1f}" y1="{y0}" x2="{x(old):.1f}" y2="{y0 + 34}"/>',
        f'<line class="limit-new" x1="{x(new):.1f}" y1="{y0}" x2="{x(new):.1f}" y2="{y0 + 34}"/>',
        f'<text class="small" x="{LABEL_W}" y="{y0 + 46}">0</text>',
        f'<text class="small" x="{LABEL_W + PLOT_W}" y="{y0 + 46}" text-anchor="end">{top:.3g}</text>',
    ]
    for i, (row, value) in enumerate(values):
        dy = 10 + (i % 3) * 6
        ring = " dropped" if row.verdict == SILENT else ""
        parts.append(
            f'<circle class="dot {CLASSES[row.label]}{ring}" cx="{x(value):.1f}" cy="{y0 + dy}" r="4">'
            f"<title>{escape(row.label)}: {value:g}, {escape(row.verdict)}</title></circle>"
        )
    return parts


def what_if_figure(outcome: Outcome, rule: str, old: Mapping[str, float], new: Mapping[str, float]) -> Markup:
    moved = [name for name in new if name in old and new[name] != old[name]]
    height = 3 * 24 + 20 + len(moved) * 60 + 24
    parts = [
        f'<svg class="whatif-chart" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        'role="img" aria-label="Precision and events still caught, now and '
        'under the proposal; reviewed events against each moved threshold">',
        *_bars(outcome, 4),
    ]
    for i, name in enumerate(moved):
        parts += _strip(outcome, rule, name, old[name], new[name], 3 * 24 + 20 + i * 60)
    legend = height - 8
    for j, (label, css) in enumerate(
        (("confirmed", "dot true"), ("false alarm", "dot false"), ("other rejection", "dot other"))
    ):
        parts.append(f'<circle class="{css}" cx="{LABEL_W + j * 130 + 5}" cy="{legend - 4}" r="4"/>')
        parts.append(f'<text x="{LABEL_W + j * 130 + 13}" y="{legend}">{label}</text>')
    parts.append(f'<text class="small" x="4" y="{legend}">lines: grey now, dark proposed</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
