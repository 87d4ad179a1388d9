"""The subject's record as one self-contained HTML page: its style inline, its images as data URIs."""

from __future__ import annotations

from pathlib import Path

from central.page_templates import package_templates
from central.subject_mark import mark_svg
from central.subject_record.record import SubjectRecord

_ENV = package_templates(Path(__file__).parent)
_ENV.filters["subject_mark"] = mark_svg


def to_html(record: SubjectRecord, appeal_window_days: int) -> str:
    return _ENV.get_template("page.html").render(record=record, appeal_window_days=appeal_window_days)
