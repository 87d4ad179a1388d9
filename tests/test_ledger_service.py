"""The ledger on a real database: deductions only from confirmed reviews, appeals decided by someone
else, reversal by new entries, versioned catalogue, caps and expiry, and rows the database refuses to edit."""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from central import audit, decisions
from central.db import transaction
from central.ledger import catalogue
from central.ledger import service as ledger
from central.review import service as review
from central.review.errors import ReviewError
from central.review.roles import Actor
from central.review.states import IllegalTransition
from central.tables import Infraction
from tests.review_support import SETTINGS, T0, add_infraction, factory_fixture  # noqa: F401  (fixture "factory")

MIN = timedelta(minutes=1)
DAY = timedelta(days=1)


def confirmed_deduction(factory, type="jaywalking", subject="case-1", at=T0, first="alice", second="bob"):
    """Store an item and take it through review to a deduction; returns (event_id, entry seq)."""
    with transaction(factory) as s:
        event_id = add_infraction(s, type=type, started_at=at)
        review.claim(s, event_id, Actor(first, "reviewer"), at, SETTINGS)
        state = decisions.decide(
            s, event_id, Actor(first, "reviewer"), "confirm", "clear evidence", "", subject, at, SETTINGS
        )
        if state == "awaiting_second":
            review.claim(s, event_id, Actor(second, "reviewer"), at + MIN, SETTINGS)
            decisions.second_review(
                s, event_id, Actor(second, "reviewer"), "confirm", "clear evidence", "", None, at + MIN, SETTINGS
            )
        [entry] = ledger.entries(s, event_id=event_id)
        return event_id, entry.seq


def file_appeal(factory, seq, now=T0 + DAY, by="clerk"):
    with transaction(factory) as s:
        return ledger.open_appeal(s, seq, by, "the person crossed on the walk signal", now, SETTINGS).id


def rule_on(factory, appeal_id, reviewer, uphold, now=T0 + 2 * DAY, reason="circumstances justify it"):
    with transaction(factory) as s:
        return ledger.decide_appeal(s, appeal_id, Actor(reviewer, "reviewer"), uphold, reason, "", now, SETTINGS)


def item_state(factory, event_id):
    with transaction(factory) as s:
        return s.get(Infraction, event_id).review_state


def test_a_granted_appeal_reverses_the_deduction_with_a_new_entry(factory):
    event_id, seq = confirmed_deduction(factory)
    appeal_id = file_appeal(factory, seq)
    assert item_state(factory, event_id) == "appealed"
    appeal = rule_on(factory, appeal_id, "carol", uphold=False)
    assert (appeal.state, appeal.decided_by, appeal.reversal_seq) == ("reversed", "carol", 2)
    assert item_state(factory, event_id) == "reversed"
    with transaction(factory) as s:
        assert [(e.seq, e.kind, e.points, e.reverses) for e in ledger.entries(s)] == [
            (1, "deduction", 2, None),
            (2, "reversal", -2, 1),
        ]
        assert ledger.balance(s, "case-1", "north", T0 + 3 * DAY, SETTINGS) == 0
        assert ledger.verify_chain(s) == []
        with pytest.raises(IllegalTransition, match="reversed is final"):
            decisions.reopen(s, event_id, Actor("sam", "supervisor"), "again", T0 + 3 * DAY)


def test_an_upheld_appeal_leaves_the_deduction_standing(factory):
    event_id, seq = confirmed_deduction(factory)
    appeal = rule_on(
        factory, file_appeal(factory, seq), "carol", uphold=True, reason="deduction stands: evidence clear"
    )
    assert appeal.state == "upheld" and appeal.reversal_seq is None
    assert item_state(factory, event_id) == "confirmed"
    with transaction(factory) as s:
        assert ledger.balance(s, "case-1", "north", T0 + 3 * DAY, SETTINGS) == 2
    with pytest.raises(ReviewError, match="already been appealed"):
        file_appeal(factory, seq, now=T0 + 3 * DAY)


def test_nobody_who_confirmed_or_filed_decides_the_appeal(factory):
    _event_id, seq = confirmed_deduction(factory, type="littering")  # alice first, bob second reviewer
    appeal_id = file_appeal(factory, seq)
    for who in ("alice", "bob", "clerk"):
        with pytest.raises(ReviewError, match=f"{who} confirmed this deduction or filed the appeal"):
            rule_on(factory, appeal_id, who, uphold=False)
    assert rule_on(factory, appeal_id, "carol", uphold=False).state == "reversed"


def test_appeal_rules(factory):
    _event_id, seq = confirmed_deduction(factory)
    with pytest.raises(ReviewError, match="closed on 2026-04-01"), transaction(factory) as s:
        ledger.open_appeal(s, seq, "clerk", "late", T0 + 31 * DAY, SETTINGS)
    with pytest.raises(ReviewError, match="needs a reason"), transaction(factory) as s:
        ledger.open_appeal(s, seq, "clerk", " ", T0 + DAY, SETTINGS)
    appeal_id = file_appeal(factory, seq)
    with pytest.raises(ReviewError, match="'sympathy' is not a reason for granting an appeal"):
        rule_on(factory, appeal_id, "carol", uphold=False, reason="sympathy")
    with pytest.raises(ReviewError, match="needs the role"), transaction(factory) as s:
        ledger.decide_appeal(s, appeal_id, Actor("audrey", "auditor"), False, "other", "x", T0 + 2 * DAY, SETTINGS)
    rule_on(factory, appeal_id, "carol", uphold=False)
    with pytest.raises(ReviewError, match="already decided"):
        rule_on(factory, appeal_id, "dave", uphold=True)
    with pytest.raises(ReviewError, match="entry 2 is not a deduction"):
        file_appeal(factory, 2)


def test_an_appeal_reason_must_fit_its_outcome(factory):
    """Issue 24 §6: one list of reasons served both outcomes, so an appeal could be granted because "deduction
    stands: evidence clear", or refused because "wrong subject reference"."""
    _event_id, seq = confirmed_deduction(factory)
    appeal_id = file_appeal(factory, seq)
    with pytest.raises(ReviewError, match="'deduction stands: evidence clear' is not a reason for granting"):
        rule_on(factory, appeal_id, "carol", uphold=False, reason="deduction stands: evidence clear")
    refusing = "is not a reason for refusing an appeal \\(the deduction stands\\); choose one of: deduction stands"
    with pytest.raises(ReviewError, match=refusing):
        rule_on(factory, appeal_id, "carol", uphold=True, reason="wrong subject reference")
    assert (
        rule_on(factory, appeal_id, "carol", uphold=True, reason="deduction stands: evidence clear").state == "upheld"
    )


def test_no_deduction_without_a_confirmed_review(factory):
    with transaction(factory) as s:
        event_id = add_infraction(s)
        with pytest.raises(ReviewError, match="is pending; only a confirmed review writes a deduction"):
            ledger.record_deduction(s, event_id, T0, SETTINGS)
    event_id, _seq = confirmed_deduction(factory)
    with pytest.raises(ReviewError, match="already has deduction 1"), transaction(factory) as s:
        ledger.record_deduction(s, event_id, T0, SETTINGS)


def test_one_incident_is_capped_and_everything_expires(factory):
    confirmed_deduction(factory, type="littering", at=T0)  # 3 points
    confirmed_deduction(factory, type="jaywalking", at=T0 + 5 * MIN)  # 2 points, same incident
    confirmed_deduction(factory, type="jaywalking", at=T0 + 30 * DAY)  # 2 points, a new incident
    with transaction(factory) as s:
        assert ledger.balance(s, "case-1", "north", T0 + 31 * DAY, SETTINGS) == 3 + 2
        assert [i.counted for i in ledger.incidents(s, "case-1", "north", T0 + 31 * DAY, SETTINGS)] == [3, 2]
        assert ledger.balance(s, "case-1", "north", T0 + 366 * DAY, SETTINGS) == 2
        assert ledger.balance(s, "case-1", "north", T0 + 396 * DAY, SETTINGS) == 0


def test_a_new_catalogue_version_prices_new_deductions_only(factory):
    _event_id, _ = confirmed_deduction(factory, type="jaywalking")
    with transaction(factory) as s:
        published = catalogue.publish(s, {"jaywalking": 1, "littering": 3}, "admin", T0 + DAY)
        assert published.version == 2
        assert catalogue.current(s).points == {"jaywalking": 1, "littering": 3}
        assert catalogue.version(s, 1).points == {"jaywalking": 2, "littering": 3}
        for bad, message in [
            ({"jaywalking": 1}, "exactly these types"),
            ({"jaywalking": -1, "littering": 3}, "whole number from 0 to 20"),
            ({"jaywalking": 2.5, "littering": 3}, "whole number"),
        ]:
            with pytest.raises(ReviewError, match=message):
                catalogue.publish(s, bad, "admin", T0 + DAY)
    confirmed_deduction(factory, type="jaywalking", at=T0 + 2 * DAY, subject="case-2")
    with transaction(factory) as s:
        assert [(e.catalogue_version, e.points) for e in ledger.entries(s)] == [(1, 2), (2, 1)]
        assert [v.version for v in catalogue.versions(s)] == [1, 2]


APPEND_ONLY_EDITS = [
    "UPDATE ledger_entries SET points = 0",
    "DELETE FROM ledger_entries",
    "UPDATE points_catalogue SET points = 0",
    "DELETE FROM audit_log",
]


def test_the_database_refuses_to_edit_append_only_rows(factory):
    confirmed_deduction(factory)
    for statement in APPEND_ONLY_EDITS:
        with pytest.raises(DBAPIError, match="append-only"), transaction(factory) as s:
            s.execute(text(statement))
    with transaction(factory) as s:
        [entry] = ledger.entries(s)
        assert entry.points == 2 and catalogue.current(s).points["jaywalking"] == 2
        assert len(audit.entries(s)) == 3
