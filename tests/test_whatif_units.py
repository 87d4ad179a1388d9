"""Issue 23 §5: a what-if judges each event in its own unit and under its own thresholds, and an event reversed
on appeal no longer counts as confirmed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from central import decisions
from central.db import transaction
from central.ledger import service as ledger
from central.review import service as review
from central.review.roles import Actor
from central.tables import Infraction
from central.tuning import precision
from central.tuning.rejudge import FIRES, SILENT, UNKNOWN
from central.tuning.reviewed import CameraRule, Reviewed, reviewed
from central.tuning.whatif import what_if
from tests.console_support import make_central, seed, serve
from tests.review_support import SETTINGS, T0, add_infraction, factory_fixture  # noqa: F401  (fixture "factory")
from tests.test_console_hardening import page_session

WIDTHS = {"min_duration_s": 1.0, "min_move": 0.03, "min_distance": 0.1, "min_depth": 0.025, "unit": "frame_widths"}
METRES = {"min_duration_s": 1.0, "min_move": 0.5, "min_distance": 2.0, "min_depth": 0.025, "unit": "m"}


def event(i: int, thresholds: dict, measured: dict, decision: str = "confirm") -> Reviewed:
    return Reviewed(f"e{i}", T0 + timedelta(days=i), decision, None, thresholds, measured, "1.0")


def test_a_distance_in_metres_is_not_applied_to_frame_widths() -> None:
    before = event(0, WIDTHS, {"duration_s": 0.4, "max_move": 0.3, "max_depth": 0.1, "unit": "frame_widths"})
    after = event(1, METRES, {"duration_s": 0.4, "max_move": 2.5, "max_depth": 0.1, "unit": "m"})
    # 3 m however brief: the calibrated event no longer fires; 0.3 frame widths is no number of metres.
    outcome = what_if("jaywalking", [before, after], {"min_distance": 3.0}, "m")
    assert [r.verdict for r in outcome.rows] == [UNKNOWN, SILENT]
    assert outcome.rows[0].unit_note == "min_distance proposed in metres, measured in frame widths"
    assert outcome.other_unit == 1 and outcome.dropped.confirmed == 1 and outcome.kept.confirmed == 0
    # A time knob means the same in both units: both are judged, each with its own distances.
    timed = what_if("jaywalking", [before, after], {"min_duration_s": 0.2}, "m")
    assert [r.verdict for r in timed.rows] == [FIRES, FIRES] and timed.other_unit == 0


def test_an_unchanged_proposal_drops_nothing_fired_under_older_thresholds() -> None:
    """The newest trace's thresholds were stricter; an older event that fired under its own still counts."""
    older = event(0, {**WIDTHS, "min_duration_s": 0.5}, {"duration_s": 0.8, "max_move": 0.05, "max_depth": 0.1})
    newer = event(1, WIDTHS, {"duration_s": 1.5, "max_move": 0.05, "max_depth": 0.1})
    outcome = what_if("jaywalking", [older, newer], {}, "frame_widths")
    assert [r.verdict for r in outcome.rows] == [FIRES, FIRES] and outcome.dropped.count == 0


def test_an_event_reversed_on_appeal_is_not_counted_as_confirmed(factory) -> None:
    trace = {"rule": {"name": "jaywalking", "version": "1.0", "thresholds": WIDTHS, "measurements": {}}}
    reviewer = Actor("alice", "reviewer")
    with transaction(factory) as s:
        kept, reversed_ = add_infraction(s), add_infraction(s, started_at=T0 + timedelta(hours=1))
        for event_id in (kept, reversed_):
            s.get(Infraction, event_id).payload = {"event_id": event_id, **trace}
            review.claim(s, event_id, reviewer, T0, SETTINGS)
            state = decisions.decide(s, event_id, reviewer, "confirm", "clear evidence", "", "case-1", T0, SETTINGS)
            assert state == "confirmed"
        [entry] = ledger.entries(s, event_id=reversed_)
    with transaction(factory) as s:
        appeal = ledger.open_appeal(s, entry.seq, "clerk", "it was the walk signal", T0 + timedelta(days=1), SETTINGS)
    with transaction(factory) as s:
        ledger.decide_appeal(
            s, appeal.id, Actor("carol", "reviewer"), False, "circumstances justify it", "", T0 + timedelta(days=2),
            SETTINGS,
        )  # fmt: skip
    with transaction(factory) as s:
        events = reviewed(s, CameraRule("north", "cam-1", "jaywalking"))
    assert [(e.event_id, e.decision, e.reason) for e in events] == [
        (kept, "confirm", "clear evidence"),
        (reversed_, "reverse", "circumstances justify it"),
    ]
    assert [precision.label(e) for e in events] == [precision.TRUE, precision.OTHER]
    assert precision.tally(events).confirmed == 1


def test_the_rules_page_judges_each_event_under_its_own_thresholds(db_url: str, tmp_path) -> None:
    """Through the console: the camera once ran with min_duration_s 0.5, now with 1.0. A what-if that moves
    nothing drops nothing (it applied the newest trace's 1.0 to the older event and dropped it)."""
    central = make_central(db_url, tmp_path)
    older, newer = seed(central), seed(central)
    traces = {
        older: ({**WIDTHS, "min_duration_s": 0.5}, {"duration_s": 0.8, "max_move": 0.05, "max_depth": 0.1}),
        newer: (WIDTHS, {"duration_s": 1.5, "max_move": 0.05, "max_depth": 0.1}),
    }
    alice = Actor("alice", "reviewer")
    with transaction(central.factory) as s:
        for i, (event_id, (thresholds, measured)) in enumerate(traces.items()):
            row = s.get(Infraction, event_id)
            row.started_at = T0 + timedelta(days=i)
            rule = {"name": "jaywalking", "version": "1", "thresholds": thresholds, "measurements": measured}
            row.payload = {**row.payload, "rule": rule}
            review.claim(s, event_id, alice, datetime.now(UTC), central.settings)
            decisions.decide(
                s, event_id, alice, "confirm", "clear evidence", "", None, datetime.now(UTC), central.settings
            )
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = page_session(client, "sam")
        form = {"csrf_token": token, **{k: str(v) for k, v in WIDTHS.items() if k != "unit"}}
        page = client.post("/rules/main-st/cam-north/jaywalking/what-if", data=form)
    assert page.status_code == 200, page.text
    assert "so a re-judged verdict is exact" in page.text, "the rule's own words on what its trace can tell"
    assert '<strong class="kept-confirmed">2</strong>' in page.text
    assert '<strong class="dropped-confirmed">0</strong>' in page.text
