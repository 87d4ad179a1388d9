"""The arithmetic of the transparency report and of the rules' what-if, on hand-made rows: counting per
camera and rule, hiding small and derivable figures, re-judging traces, the camera file change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from central.ledger.catalogue import CatalogueVersion
from central.transparency import figures as fig
from central.transparency.disclosure import DERIVABLE, SMALL, disclose
from central.transparency.queries import (
    AppealRow,
    Decision,
    Expiring,
    LedgerRow,
    Period,
    Purged,
    Received,
    ReportRows,
)
from central.tuning.camera_change import camera_yaml
from central.tuning.precision import by_month, tally
from central.tuning.rejudge import FIRES, SILENT, UNKNOWN, rejudge
from central.tuning.reviewed import Reviewed
from central.tuning.whatif import what_if
from models.topics import Topic, parse_topic_any_prefix

START = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD = Period("north", START, datetime(2026, 4, 1, tzinfo=UTC))
REASONS = ["not an infraction", "evidence unclear"]
T = START + timedelta(days=3)


def rows(**fields: object) -> ReportRows:
    base: dict[str, object] = dict(
        period=PERIOD,
        received=[],
        quarantined_cameras=[],
        decisions=[],
        appeals=[],
        ledger=[],
        expiring=[],
        purged=[],
        catalogue=[],
    )
    return ReportRows(**{**base, **fields})  # type: ignore[arg-type]


def decision(camera: str, action: str, reason: str | None = None, wait_s: float = 60, second: bool = False):
    return Decision(
        camera,
        "jaywalking",
        action,
        "second_review" if second else "in_review",
        reason,
        T,
        T + timedelta(seconds=wait_s),
    )


def test_figures_count_each_kind_of_record_for_its_camera_and_rule() -> None:
    report = fig.compute(
        rows(
            received=[Received("cam-1", "jaywalking", "1.0")] * 3 + [Received("cam-2", "littering", "1.0")],
            quarantined_cameras=["cam-1", "cam-9"],
            decisions=[
                decision("cam-1", "confirm", wait_s=60),
                decision("cam-1", "reject", "not an infraction", wait_s=120),
                decision("cam-1", "reject", "retired reason", wait_s=600, second=True),
            ],
            appeals=[
                AppealRow("cam-1", "jaywalking", T, "reversed", T + timedelta(days=1)),
                AppealRow("cam-1", "jaywalking", START - timedelta(days=3), "upheld", T),
                AppealRow("cam-1", "jaywalking", T, "upheld", PERIOD.end + timedelta(days=1)),
            ],
            ledger=[
                LedgerRow("cam-1", "jaywalking", "deduction", 2, T, 1),
                LedgerRow("cam-1", "jaywalking", "reversal", -2, T, 1),
            ],
            expiring=[
                Expiring("cam-1", "jaywalking", 2, T, None),
                Expiring("cam-1", "jaywalking", 2, T, T - timedelta(days=1)),
                Expiring("cam-1", "jaywalking", 2, PERIOD.end - timedelta(seconds=1), None),
            ],
            purged=[Purged((("cam-1", "jaywalking"), ("cam-2", "littering")))],
        ),
        REASONS,
        as_of=PERIOD.end - timedelta(hours=1),
    )
    cam1 = next(g for g in report.groups if g.camera == "cam-1" and g.rule == "jaywalking")
    value = {key: cell.value for key, cell in cam1.cells.items()}
    assert value["received"] == 3
    assert value["confirmed"] == 1 and value["rejected"] == 2
    assert value["rejected: not an infraction"] == 1 and value["rejected: " + fig.RETIRED_REASON] == 1
    assert value["second_review_disagreed"] == 1
    assert (value["appeals_filed"], value["appeals_refused"], value["appeals_granted"]) == (2, 1, 1)
    assert (value["points_deducted"], value["points_reversed"]) == (2, 2)
    # Reversed before it expired: not expired; expiring after `as_of`: not yet.
    assert value["points_expired"] == 2
    assert value["evidence_purged"] == 1
    assert value[fig.MEDIAN] == 120
    assert {(g.camera, g.rule) for g in report.groups} >= {
        ("cam-1", fig.QUARANTINE_RULE),
        ("cam-9", fig.QUARANTINE_RULE),
    }
    assert report.total.cells["received"].value == 4 and report.total.cells["evidence_purged"].value == 2
    assert report.rule_versions == [("jaywalking", "1.0"), ("littering", "1.0")]


def test_catalogue_in_force_is_the_one_before_the_period_those_published_in_it_and_those_that_priced_it() -> None:
    def version(n: int, at: datetime) -> CatalogueVersion:
        return CatalogueVersion(n, {"jaywalking": n}, at, "x")

    versions = [version(1, START - timedelta(days=90)), version(2, START - timedelta(days=9)), version(3, T)]
    assert [v.version for v in fig.in_force(versions, PERIOD, [])] == [2, 3]
    assert [v.version for v in fig.in_force(versions, PERIOD, [1])] == [1, 2, 3]


def test_small_figures_show_as_below_the_threshold_and_a_lone_hidden_part_hides_its_sum() -> None:
    report = fig.compute(
        rows(
            received=[Received("cam-1", "jaywalking", "1")] * 9 + [Received("cam-2", "jaywalking", "1")] * 2,
            decisions=[decision("cam-1", "reject", "not an infraction")] * 6
            + [decision("cam-1", "reject", "evidence unclear")],
        ),
        REASONS,
        as_of=PERIOD.end,
    )
    shown = disclose(report, 5)
    cam1, cam2 = shown.rows
    assert cam2.cells["received"].hidden == SMALL and cam2.cells["received"].text() == "hidden"
    # 9 + hidden = 11 would give cam-2's figure away: one more figure of that sum is hidden too.
    assert DERIVABLE in (cam1.cells["received"].hidden, shown.total.cells["received"].hidden)
    # rejected 7 = 6 + hidden: the lone hidden reason takes another figure of its row with it.
    assert cam1.cells["rejected: evidence unclear"].hidden == SMALL
    assert DERIVABLE in (cam1.cells["rejected"].hidden, cam1.cells["rejected: not an infraction"].hidden)
    assert shown.total.cells[fig.MEDIAN].value == 60 and cam1.cells[fig.MEDIAN].value == 60
    assert cam2.cells["confirmed"].value == 0 and cam2.cells["confirmed"].hidden is None
    assert disclose(report, 1).total.cells["received"].value == 11


def test_topics_name_their_site_and_camera_whatever_the_prefix() -> None:
    assert parse_topic_any_prefix("city/v2/north/cam-1/infraction") == Topic("infraction", "north", "cam-1")
    assert parse_topic_any_prefix("curbwatch/v1/north/cam-1/item") == Topic("item", "north", "cam-1")
    evidence = parse_topic_any_prefix("curbwatch/v1/north/cam-1/evidence/" + "a" * 64)
    assert evidence is not None and (evidence.site, evidence.camera) == ("north", "cam-1")
    for garbage in ("garbage", "north/cam-1/item", "curbwatch/v1/north/cam 1/item", "curbwatch/v1/north/cam-1/x"):
        assert parse_topic_any_prefix(garbage) is None, garbage


JAY = {"min_duration_s": 1.0, "min_move": 0.03, "min_distance": 0.1, "min_depth": 0.025, "unit": "frame_widths"}


def test_jaywalking_traces_are_judged_again_exactly() -> None:
    measured = {"duration_s": 1.8, "max_move": 0.05, "max_depth": 0.04}
    assert rejudge("jaywalking", JAY, measured, {}) == FIRES
    assert rejudge("jaywalking", JAY, measured, {"min_depth": 0.05}) == SILENT
    assert rejudge("jaywalking", JAY, measured, {"min_duration_s": 2.0}) == SILENT
    # A long enough move counts however brief.
    assert rejudge("jaywalking", JAY, {**measured, "max_move": 0.2}, {"min_duration_s": 5.0}) == FIRES
    with pytest.raises(ValueError, match="needs a replay"):
        rejudge("jaywalking", JAY, measured, {"exit_grace_s": 3.0})


def test_littering_stricter_than_measured_cannot_be_told_from_the_trace() -> None:
    old = {"min_static_s": 2.0, "grace_s": 5.0, "owner_distance": 0.15}
    measured = {"static_s": 6.0, "owner_away_s": 5.2}
    assert rejudge("littering", old, measured, {"grace_s": 3.0}) == FIRES
    assert rejudge("littering", old, measured, {"min_static_s": 5.0}) == FIRES
    assert rejudge("littering", old, measured, {"grace_s": 10.0}) == UNKNOWN


def reviewed(i: int, decision: str, reason: str | None, depth: float) -> Reviewed:
    measured = {"duration_s": 2.0, "max_move": 0.05, "max_depth": depth}
    return Reviewed(f"e{i}", START + timedelta(days=i * 20), decision, reason, JAY, measured, "1.0")


def test_what_if_counts_events_that_change_sides_and_precision_by_month() -> None:
    events = [
        reviewed(0, "confirm", None, 0.2),
        reviewed(1, "confirm", None, 0.03),
        reviewed(2, "reject", "not an infraction", 0.03),
        reviewed(3, "reject", "evidence unclear", 0.03),
    ]
    outcome = what_if("jaywalking", events, {"min_depth": 0.1}, "frame_widths")
    assert [r.changes_side for r in outcome.rows] == [False, True, True, True]
    assert outcome.now.precision == pytest.approx(2 / 3)
    assert outcome.kept.precision == 1.0 and outcome.still_caught == 0.5
    assert [(m, t.confirmed, t.false_alarms, t.other) for m, t in by_month(events)] == [
        ("2026-03", 2, 0, 0),
        ("2026-04", 0, 1, 1),
    ]
    assert tally(events).precision == pytest.approx(2 / 3)


def test_camera_change_names_the_camera_file_keys_and_refuses_values_out_of_range() -> None:
    text = camera_yaml(
        site="north", camera="cam-1", rule="jaywalking", unit="m", current={"min_distance": 2.0, "min_depth": 0.025},
        proposed={"min_distance": 3.0, "min_depth": 0.025}, by="sam", at=T, events=4,
    )  # fmt: skip
    assert "rules:\n  jaywalking:\n    min_distance_m: 3.0\n" in text and "min_depth" not in text.split("rules:")[1]
    assert "# Replaces: min_distance_m 2.0." in text
    with pytest.raises(ValueError, match="min_depth"):
        camera_yaml(
            site="north", camera="cam-1", rule="jaywalking", unit="m", current={"min_depth": 0.025},
            proposed={"min_depth": 0.9}, by="sam", at=T, events=4,
        )  # fmt: skip
