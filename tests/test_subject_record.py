"""A subject's own record on a real database: it says what was decided and why from the fixed lists of
reasons, never what a supervisor typed."""

from __future__ import annotations

from pathlib import Path

from central import decisions
from central.db import transaction
from central.evidence_store import FolderEvidenceStore
from central.review.roles import Actor
from central.subject_record.record import gather
from central.subject_record.render import to_html
from tests.review_support import SETTINGS, T0, factory_fixture  # noqa: F401  (fixture "factory")
from tests.test_ledger_service import DAY, confirmed_deduction

TYPED = "spoke to the shop owner on Elm St, who says it was her son"


def test_a_reopened_items_record_leaves_out_the_supervisors_reason(factory, tmp_path: Path) -> None:
    """Issue 23 §7: the reopen reason is free text, which the record's docstring says it leaves out."""
    event_id, _seq = confirmed_deduction(factory, subject="case-7")
    with transaction(factory) as s:
        decisions.reopen(s, event_id, Actor("sam", "supervisor"), TYPED, T0 + DAY)
    with transaction(factory) as s:
        record = gather(s, FolderEvidenceStore(tmp_path), "case-7", "north", T0 + 2 * DAY, SETTINGS)
        page = to_html(record, SETTINGS.appeal_window_days)
    deduction = record.entries[0]
    assert [(step.words, step.reason) for step in deduction.steps] == [
        ("confirmed", "clear evidence"),
        ("reopened by a supervisor", None),
    ]
    assert "reopened by a supervisor" in page and "Elm St" not in page
