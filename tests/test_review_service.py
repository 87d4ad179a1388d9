"""The review workflow on a real database (SQLite and PostgreSQL): claims and their expiry, decisions,
the second-reviewer rule, supervisor moves, and the deductions and audit entries they leave."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from central import audit, decisions
from central.db import transaction
from central.ledger import service as ledger
from central.review import service as review
from central.review.errors import ReviewError
from central.review.roles import Actor
from central.review.states import IllegalTransition
from central.tables import Infraction
from tests.review_support import SETTINGS, T0, add_infraction, factory_fixture  # noqa: F401  (fixture "factory")

MIN = timedelta(minutes=1)


def new_item(factory, **kwargs):
    with transaction(factory) as s:
        return add_infraction(s, **kwargs)


def state_of(factory, event_id):
    with transaction(factory) as s:
        return s.get(Infraction, event_id).review_state


def claim(factory, event_id, who, now):
    with transaction(factory) as s:
        return review.claim(s, event_id, Actor(who, "reviewer"), now, SETTINGS)


def decide(factory, event_id, who, decision, now, reason=None, subject_ref=None, note="", second=False):
    reason = reason or ("clear evidence" if decision == "confirm" else "not an infraction")
    make = decisions.second_review if second else decisions.decide
    with transaction(factory) as s:
        return make(s, event_id, Actor(who, "reviewer"), decision, reason, note, subject_ref, now, SETTINGS)


def confirm_with_subject(factory, event_id, who, now, subject_ref="case-1"):
    claim(factory, event_id, who, now)
    return decide(factory, event_id, who, "confirm", now, subject_ref=subject_ref)


def test_a_claim_keeps_others_out_until_it_expires(factory):
    item = new_item(factory)
    held = claim(factory, item, "alice", T0)
    assert held.expires_at == T0 + timedelta(seconds=SETTINGS.claim_ttl_s)
    with pytest.raises(ReviewError, match="claimed by alice until 2026-03-02 09:10 UTC"):
        claim(factory, item, "bob", T0 + 9 * MIN)
    with pytest.raises(ReviewError, match="claimed by alice"):
        decide(factory, item, "bob", "reject", T0 + 9 * MIN)
    claim(factory, item, "bob", T0 + 11 * MIN)
    with pytest.raises(ReviewError, match="claimed by bob"):
        decide(factory, item, "alice", "confirm", T0 + 12 * MIN)
    assert decide(factory, item, "bob", "reject", T0 + 12 * MIN) == "rejected"
    with transaction(factory) as s:
        moves = [(a.actor, a.action, a.to_state) for a in review.history(s, item)]
    assert moves == [
        ("alice", "claim", "in_review"),
        ("system", "expire", "pending"),
        ("bob", "claim", "in_review"),
        ("bob", "reject", "rejected"),
    ]


def test_renewing_ones_own_claim_extends_it(factory):
    item = new_item(factory)
    claim(factory, item, "alice", T0)
    renewed = claim(factory, item, "alice", T0 + 8 * MIN)
    assert renewed.expires_at == T0 + 18 * MIN
    with pytest.raises(ReviewError, match="claimed by alice until 2026-03-02 09:18 UTC"):
        claim(factory, item, "bob", T0 + 12 * MIN)


def test_release_returns_the_item_and_only_its_holder_may(factory):
    item = new_item(factory)
    claim(factory, item, "alice", T0)
    with pytest.raises(ReviewError, match="claimed by alice"), transaction(factory) as s:
        review.release(s, item, "bob", T0 + MIN)
    with transaction(factory) as s:
        review.release(s, item, "alice", T0 + MIN)
    assert state_of(factory, item) == "pending"
    with pytest.raises(IllegalTransition, match="cannot release an item that is pending"), transaction(factory) as s:
        review.release(s, item, "alice", T0 + MIN)


def test_two_reviewers_claiming_at_once_get_one_claim(factory):
    item = new_item(factory)
    barrier, outcomes = threading.Barrier(2), {}

    def attempt(who):
        barrier.wait()
        try:
            claim(factory, item, who, T0)
            outcomes[who] = "claimed"
        except ReviewError as exc:
            outcomes[who] = str(exc)

    threads = [threading.Thread(target=attempt, args=(who,)) for who in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes.values()).count("claimed") == 1, outcomes
    loser = next(who for who, outcome in outcomes.items() if outcome != "claimed")
    assert "claimed by" in outcomes[loser] or "changed by someone else" in outcomes[loser]


def test_queue_lists_open_items_oldest_first_and_frees_expired_claims(factory):
    a = new_item(factory, started_at=T0)
    b = new_item(factory, started_at=T0 + MIN, camera_id="cam-2", type="littering")
    c = new_item(factory, started_at=T0 + 2 * MIN)
    claim(factory, a, "alice", T0)
    with transaction(factory) as s:
        assert [i.event_id for i in review.queue(s, now=T0 + MIN)] == [b, c]
        assert [i.event_id for i in review.queue(s, now=T0 + 11 * MIN)] == [a, b, c]
        assert [i.event_id for i in review.queue(s, now=T0, camera_id="cam-2")] == [b]
        assert [i.event_id for i in review.queue(s, now=T0, type="jaywalking")] == [c]
        assert [i.event_id for i in review.queue(s, now=T0, older_than=T0 + 90 * timedelta(seconds=1))] == [b]
        assert [i.event_id for i in review.queue(s, now=T0, newer_than=T0 + 90 * timedelta(seconds=1))] == [c]
        assert [i.event_id for i in review.queue(s, now=T0 + MIN, states=["in_review"])] == [a]


def test_a_confirmation_at_or_below_the_threshold_deducts_at_once(factory):
    item = new_item(factory, type="jaywalking")
    assert confirm_with_subject(factory, item, "alice", T0) == "confirmed"
    with transaction(factory) as s:
        [entry] = ledger.entries(s)
        assert (entry.kind, entry.points, entry.subject_ref, entry.decided_by, entry.second_by) == (
            "deduction",
            2,
            "case-1",
            "alice",
            None,
        )
        assert entry.catalogue_version == 1
        assert entry.expires_at == T0 + timedelta(days=SETTINGS.points_expiry_days)
        assert ledger.balance(s, "case-1", "north", T0 + MIN, SETTINGS) == 2
        assert ledger.balance(s, "case-1", "south", T0 + MIN, SETTINGS) == 0


def test_a_confirmation_without_a_subject_deducts_nothing(factory):
    item = new_item(factory, type="littering")
    claim(factory, item, "alice", T0)
    assert decide(factory, item, "alice", "confirm", T0) == "confirmed"
    with transaction(factory) as s:
        assert ledger.entries(s) == []
        with pytest.raises(ReviewError, match="names no subject reference"):
            ledger.record_deduction(s, item, T0, SETTINGS)


def test_above_the_threshold_a_different_second_reviewer_must_confirm(factory):
    item = new_item(factory, type="littering")
    assert confirm_with_subject(factory, item, "alice", T0) == "awaiting_second"
    with transaction(factory) as s:
        assert ledger.entries(s) == []
    with pytest.raises(ReviewError, match="a different reviewer must give the second"):
        claim(factory, item, "alice", T0 + MIN)
    claim(factory, item, "bob", T0 + MIN)
    assert decide(factory, item, "bob", "confirm", T0 + 2 * MIN, second=True) == "confirmed"
    with transaction(factory) as s:
        [entry] = ledger.entries(s)
        assert (entry.points, entry.subject_ref, entry.decided_by, entry.second_by) == (3, "case-1", "alice", "bob")


def test_a_second_reviewer_may_reject_and_nothing_is_deducted(factory):
    item = new_item(factory, type="littering")
    confirm_with_subject(factory, item, "alice", T0)
    claim(factory, item, "bob", T0 + MIN)
    assert decide(factory, item, "bob", "reject", T0 + MIN, reason="evidence unclear", second=True) == "rejected"
    with transaction(factory) as s:
        assert ledger.entries(s) == []


def test_a_second_reviewer_cannot_swap_the_subject(factory):
    item = new_item(factory, type="littering")
    confirm_with_subject(factory, item, "alice", T0)
    claim(factory, item, "bob", T0 + MIN)
    with pytest.raises(ReviewError, match="differs from the first reviewer's"):
        decide(factory, item, "bob", "confirm", T0 + MIN, subject_ref="case-2", second=True)
    assert state_of(factory, item) == "second_review"


BAD_DECISIONS = [
    ("confirm", "looks bad", "", None, "'looks bad' is not a reason to confirm"),
    ("reject", "clear evidence", "", None, "is not a reason to reject"),
    ("reject", "other", "", None, "reason 'other' needs a note"),
    ("reject", "not an infraction", "", "case-1", "a rejection takes no subject reference"),
    ("confirm", "clear evidence", "", "Jane Doe", "subject reference 'Jane Doe' is not allowed"),
    ("confirm", "clear evidence", "", "a@b.example", "is not allowed"),
    ("confirm", "clear evidence", "", "x" * 65, "in at most 64 characters"),
    ("confirm", "clear evidence", "x" * 2001, None, "at most 2000 are kept"),
    ("approve", "clear evidence", "", None, "decision must be confirm or reject"),
]


def test_bad_decisions_are_refused_and_change_nothing(factory):
    item = new_item(factory)
    claim(factory, item, "alice", T0)
    for decision, reason, note, subject_ref, message in BAD_DECISIONS:
        with pytest.raises(ReviewError, match=message):
            decide(factory, item, "alice", decision, T0, reason=reason, note=note, subject_ref=subject_ref)
        assert state_of(factory, item) == "in_review"


def test_deciding_needs_a_claim_and_a_reviewing_role(factory):
    item = new_item(factory)
    with pytest.raises(IllegalTransition, match="cannot confirm an item that is pending"):
        decide(factory, item, "alice", "confirm", T0)
    with pytest.raises(ReviewError, match="needs the role"), transaction(factory) as s:
        review.claim(s, item, Actor("audrey", "auditor"), T0, SETTINGS)


def test_only_supervisors_reassign_and_reopen(factory):
    item = new_item(factory)
    claim(factory, item, "alice", T0)
    with pytest.raises(ReviewError, match="needs the role admin or supervisor"), transaction(factory) as s:
        review.reassign(s, item, Actor("alice", "reviewer"), "bob", T0, SETTINGS)
    with transaction(factory) as s:
        moved = review.reassign(s, item, Actor("sam", "supervisor"), "bob", T0 + MIN, SETTINGS)
        assert moved.reviewer == "bob"
    with pytest.raises(ReviewError, match="claimed by bob"):
        decide(factory, item, "alice", "reject", T0 + MIN)
    decide(factory, item, "bob", "reject", T0 + 2 * MIN)
    with pytest.raises(ReviewError, match="needs the role"), transaction(factory) as s:
        decisions.reopen(s, item, Actor("bob", "reviewer"), "second look", T0 + 3 * MIN)
    with pytest.raises(ReviewError, match="needs a reason"), transaction(factory) as s:
        decisions.reopen(s, item, Actor("sam", "supervisor"), "  ", T0 + 3 * MIN)
    with transaction(factory) as s:
        decisions.reopen(s, item, Actor("sam", "supervisor"), "camera was miscalibrated", T0 + 3 * MIN)
    assert state_of(factory, item) == "pending"


def test_reassigning_a_second_review_to_the_first_reviewer_is_refused(factory):
    item = new_item(factory, type="littering")
    confirm_with_subject(factory, item, "alice", T0)
    with pytest.raises(ReviewError, match="alice gave the first confirmation"), transaction(factory) as s:
        review.reassign(s, item, Actor("sam", "supervisor"), "alice", T0 + MIN, SETTINGS)
    with transaction(factory) as s:
        review.reassign(s, item, Actor("sam", "supervisor"), "bob", T0 + MIN, SETTINGS)
    assert state_of(factory, item) == "second_review"


def test_reopening_a_confirmed_item_reverses_its_deduction(factory):
    item = new_item(factory)
    confirm_with_subject(factory, item, "alice", T0)
    with transaction(factory) as s:
        decisions.reopen(s, item, Actor("sam", "supervisor"), "wrong subject", T0 + MIN)
        assert ledger.balance(s, "case-1", "north", T0 + 2 * MIN, SETTINGS) == 0
        assert [(e.kind, e.points, e.reverses) for e in ledger.entries(s)] == [
            ("deduction", 2, None),
            ("reversal", -2, 1),
        ]
    confirm_with_subject(factory, item, "bob", T0 + 3 * MIN, subject_ref="case-7")
    with transaction(factory) as s:
        assert ledger.balance(s, "case-7", "north", T0 + 4 * MIN, SETTINGS) == 2
        assert ledger.balance(s, "case-1", "north", T0 + 4 * MIN, SETTINGS) == 0
        assert ledger.verify_chain(s) == []


def test_final_and_decided_items_refuse_review_moves(factory):
    item = new_item(factory)
    claim(factory, item, "alice", T0)
    decide(factory, item, "alice", "reject", T0)
    with pytest.raises(IllegalTransition, match="cannot claim an item that is rejected"):
        claim(factory, item, "bob", T0 + MIN)
    with pytest.raises(IllegalTransition, match="cannot reassign an item that is rejected"), transaction(factory) as s:
        review.reassign(s, item, Actor("sam", "supervisor"), "bob", T0, SETTINGS)
    fresh = new_item(factory)
    with pytest.raises(IllegalTransition, match="cannot reopen an item that is pending"), transaction(factory) as s:
        decisions.reopen(s, fresh, Actor("sam", "supervisor"), "why not", T0)


def test_unknown_items_are_reported(factory):
    with pytest.raises(ReviewError, match="no infraction with event id nope"):
        claim(factory, "nope", "alice", T0)


def test_every_move_is_audited_without_the_subject_reference(factory):
    item = new_item(factory)
    confirm_with_subject(factory, item, "alice", T0)
    with transaction(factory) as s:
        log = audit.entries(s)
        assert [(e.actor, e.action) for e in log] == [
            ("alice", "review.claim"),
            ("alice", "review.confirm"),
            ("alice", "ledger.deduction"),
        ]
        assert log[1].details["reason"] == "clear evidence" and log[1].details["subject_ref_given"] is True
        assert all("case-1" not in str(e.details) for e in log)
        assert audit.verify(s) == []


def test_a_failed_request_leaves_no_trace(factory):
    item = new_item(factory)
    claim(factory, item, "alice", T0)
    with pytest.raises(ReviewError):
        decide(factory, item, "alice", "confirm", T0, subject_ref="not ok!")
    with transaction(factory) as s:
        assert [e.action for e in audit.entries(s)] == ["review.claim"]
        assert s.scalar(select(Infraction.review_state).where(Infraction.event_id == item)) == "in_review"


def test_deciding_on_ones_own_expired_claim_says_so(factory):
    item = new_item(factory)
    claim(factory, item, "alice", T0)
    with pytest.raises(ReviewError, match="your claim expired at 2026-03-02 09:10 UTC; claim the item again"):
        decide(factory, item, "alice", "reject", T0 + 11 * MIN)
    claim(factory, item, "alice", T0 + 12 * MIN)
    assert decide(factory, item, "alice", "reject", T0 + 12 * MIN) == "rejected"


def test_the_queue_hides_items_from_the_reviewer_who_must_not_give_their_second_review(factory):
    first = new_item(factory, type="littering", started_at=T0)
    other = new_item(factory, started_at=T0 + MIN)
    confirm_with_subject(factory, first, "alice", T0)
    with transaction(factory) as s:
        assert [i.event_id for i in review.queue(s, now=T0, for_reviewer="alice")] == [other]
        assert [i.event_id for i in review.queue(s, now=T0, for_reviewer="bob")] == [first, other]


def test_a_supervisor_can_assign_an_unclaimed_item(factory):
    item = new_item(factory)
    with transaction(factory) as s:
        held = review.reassign(s, item, Actor("sam", "supervisor"), "carol", T0, SETTINGS)
        assert (held.reviewer, held.expires_at) == ("carol", T0 + timedelta(seconds=SETTINGS.claim_ttl_s))
    assert state_of(factory, item) == "in_review"
    assert decide(factory, item, "carol", "reject", T0 + MIN) == "rejected"


def test_reopening_a_referral_starts_the_review_afresh(factory):
    item = new_item(factory, type="littering")
    confirm_with_subject(factory, item, "alice", T0)
    with transaction(factory) as s:
        decisions.reopen(s, item, Actor("sam", "supervisor"), "subject reference mistyped", T0 + MIN)
    assert confirm_with_subject(factory, item, "bob", T0 + 2 * MIN, subject_ref="case-9") == "awaiting_second"
    with transaction(factory) as s:
        assert review.first_confirmer(s, item) == "bob"
    claim(factory, item, "alice", T0 + 3 * MIN)  # alice's referral belongs to the earlier round
    assert decide(factory, item, "alice", "confirm", T0 + 3 * MIN, second=True) == "confirmed"
    with transaction(factory) as s:
        [entry] = ledger.entries(s)
        assert (entry.subject_ref, entry.decided_by, entry.second_by) == ("case-9", "bob", "alice")
