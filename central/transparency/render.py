"""The transparency report written out: JSON and CSV for reuse, and one self-contained HTML page fit to
publish (its style inline, its chart inline SVG, nothing loaded from anywhere)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from central.page_templates import package_templates
from central.timeutil import iso_z
from central.transparency.chart import bar_chart
from central.transparency.disclosure import Disclosed, DisclosedRow, Shown
from central.transparency.figures import MEDIAN

FORMATS = ("html", "csv", "json")
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8", "json": "application/json"}
CSV_COLUMNS = ("site", "from", "to", "camera", "rule", "figure", "value")


def duration(seconds: float | None) -> str:
    """'35 s', '4 min 10 s', '2 h 05 min', '3 d 4 h'."""
    if seconds is None:
        return ""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


NO_DATA = "no data"
"""A median with nothing to take it over (no decision in the period), in words rather than a blank cell."""


def cell_text(report: Disclosed, key: str, shown: Shown) -> str:
    if key == MEDIAN and shown.hidden is None:
        return NO_DATA if shown.value is None else duration(shown.value)
    return shown.text()


def _json_value(report: Disclosed, key: str, shown: Shown) -> Any:
    if shown.hidden is not None:
        return shown.text()
    if shown.value is None:
        return None
    return round(shown.value, 1) if key == MEDIAN else int(shown.value)


def _row_json(report: Disclosed, row: DisclosedRow) -> dict[str, Any]:
    return {
        "camera": row.camera,
        "rule": row.rule,
        "figures": {key: _json_value(report, key, shown) for key, shown in row.cells.items()},
    }


def to_json(report: Disclosed) -> str:
    figures = report.figures
    data = {
        "schema": "curbwatch.transparency/1",
        "site": figures.period.site,
        "from": iso_z(figures.period.start),
        "to": iso_z(figures.period.end),
        "generated_at": iso_z(figures.as_of),
        "threshold": report.threshold,
        "rule_versions": [{"rule": rule, "version": version} for rule, version in figures.rule_versions],
        "catalogue": [{"version": v.version, "points": v.points} for v in figures.catalogue],
        "figures": {m.key: m.label for m in figures.metrics},
        "groups": [_row_json(report, row) for row in report.rows],
        "total": _row_json(report, report.total),
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_csv(report: Disclosed) -> str:
    """One line per camera, rule and figure (a long table that spreadsheets pivot easily)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    period = report.figures.period
    for row in [*report.rows, report.total]:
        for key, shown in row.cells.items():
            value = _json_value(report, key, shown)
            writer.writerow((period.site, iso_z(period.start), iso_z(period.end), row.camera, row.rule, key, value))
    return out.getvalue()


_ENV = package_templates(Path(__file__).parent)


def to_html(report: Disclosed) -> str:
    figures = report.figures
    return _ENV.get_template("report.html").render(
        report=report,
        figures=figures,
        chart=bar_chart(report),
        cell_text=lambda key, shown: cell_text(report, key, shown),
    )


def write(report: Disclosed, form: str) -> str:
    if form not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    return {"html": to_html, "csv": to_csv, "json": to_json}[form](report)
