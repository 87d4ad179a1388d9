"""Ledger arithmetic and hash chains on hand-written data: expiry, caps, reversal, tampering."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from central import hashchain
from central.ledger.arithmetic import DEDUCTION, REVERSAL, Entry, balance, incidents

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
WINDOW = timedelta(minutes=10)
CAP = 3


def deduction(seq, points, at, subject="case-1", site="north", life=YEAR):
    return Entry(seq, DEDUCTION, site, subject, points, at, at + life)


def reversal(seq, of):
    return Entry(seq, REVERSAL, of.site, of.subject_ref, -of.points, of.occurred_at, of.expires_at, reverses=of.seq)


def test_separate_incidents_add_up():
    entries = [deduction(1, 2, T0), deduction(2, 3, T0 + timedelta(days=2))]
    assert balance(entries, T0 + timedelta(days=3), CAP, WINDOW) == 5


def test_an_incident_is_capped():
    entries = [deduction(1, 2, T0), deduction(2, 3, T0 + timedelta(minutes=4))]
    assert balance(entries, T0 + timedelta(days=1), CAP, WINDOW) == 3
    [incident] = incidents(entries, T0 + timedelta(days=1), CAP, WINDOW)
    assert incident.live_points == 5 and incident.counted == 3


def test_incident_window_is_measured_from_the_incidents_first_entry():
    chain = [
        deduction(1, 2, T0),
        deduction(2, 2, T0 + timedelta(minutes=8)),
        deduction(3, 2, T0 + timedelta(minutes=16)),
    ]
    # 16 min is outside the first entry's 10-minute window though within 10 of the second: a new incident.
    assert [len(i.entries) for i in incidents(chain, T0, CAP, WINDOW)] == [2, 1]
    assert balance(chain, T0, CAP, WINDOW) == 3 + 2


def test_the_window_edge_is_inclusive():
    chain = [deduction(1, 2, T0), deduction(2, 2, T0 + WINDOW)]
    assert balance(chain, T0, CAP, WINDOW) == 3
    chain = [deduction(1, 2, T0), deduction(2, 2, T0 + WINDOW + timedelta(microseconds=1))]
    assert balance(chain, T0, CAP, WINDOW) == 4


def test_expired_entries_stop_counting_exactly_at_expiry():
    entry = deduction(1, 2, T0, life=timedelta(days=30))
    assert balance([entry], T0 + timedelta(days=30) - timedelta(microseconds=1), CAP, WINDOW) == 2
    assert balance([entry], T0 + timedelta(days=30), CAP, WINDOW) == 0


def test_cap_applies_to_what_is_still_live():
    old = deduction(1, 3, T0, life=timedelta(days=30))
    newer = deduction(2, 2, T0 + timedelta(minutes=5), life=timedelta(days=30, minutes=5))
    assert balance([old, newer], T0 + timedelta(days=1), CAP, WINDOW) == 3
    assert balance([old, newer], T0 + timedelta(days=30, minutes=1), CAP, WINDOW) == 2


def test_a_reversal_removes_its_deduction_and_nothing_else():
    first, second = deduction(1, 2, T0), deduction(2, 3, T0 + timedelta(days=5))
    assert balance([first, second, reversal(3, first)], T0 + timedelta(days=6), CAP, WINDOW) == 3


def test_reversing_one_entry_of_a_capped_incident_leaves_the_other_whole():
    a, b = deduction(1, 3, T0), deduction(2, 2, T0 + timedelta(minutes=1))
    assert balance([a, b], T0, CAP, WINDOW) == 3
    assert balance([a, b, reversal(3, a)], T0, CAP, WINDOW) == 2


def test_points_stay_in_their_site_and_with_their_subject():
    entries = [deduction(1, 2, T0, site="north"), deduction(2, 2, T0, site="south"), deduction(3, 3, T0, "case-2")]
    groups = incidents(entries, T0, CAP, WINDOW)
    assert sorted((i.entries[0].site, i.entries[0].subject_ref, i.counted) for i in groups) == [
        ("north", "case-1", 2),
        ("north", "case-2", 3),
        ("south", "case-1", 2),
    ]


def test_no_entries_no_points():
    assert balance([], T0, CAP, WINDOW) == 0


# -- hash chain ------------------------------------------------------------------------------------


def chain(n=4):
    records, prev = [], hashchain.GENESIS
    for seq in range(1, n + 1):
        fields = {"seq": seq, "points": seq, "at": T0 + timedelta(hours=seq), "subject_ref": "case-1"}
        digest = hashchain.link_hash(prev, fields)
        records.append(hashchain.ChainRecord(seq, fields, prev, digest))
        prev = digest
    return records


def test_an_intact_chain_has_no_problems():
    assert hashchain.verify(chain()) == []
    assert hashchain.verify([]) == []


def test_an_edited_amount_is_found_at_its_entry():
    records = chain()
    records[1] = replace(records[1], fields={**records[1].fields, "points": 0})
    assert hashchain.verify(records) == ["entry 2: contents were edited (its hash does not match its fields)"]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link():
    records = chain()
    fields = {**records[1].fields, "points": 0}
    records[1] = replace(records[1], fields=fields, hash=hashchain.link_hash(records[1].prev_hash, fields))
    problems = hashchain.verify(records)
    assert len(problems) == 1 and problems[0].startswith("entry 3: does not follow")


def test_a_removed_entry_is_reported_as_missing():
    records = chain()
    del records[1]
    problems = hashchain.verify(records)
    assert problems[0] == "entry 2 missing: the chain jumps from 1 to 3"
    assert any(p.startswith("entry 3: does not follow") for p in problems)


def test_reordered_entries_are_found():
    records = chain()
    records[1], records[2] = records[2], records[1]
    problems = hashchain.verify(records)
    assert problems[0] == "entry 2 missing: the chain jumps from 1 to 3"
    assert "entry 2 out of order: expected 4" in problems


def test_renumbered_entries_are_found():
    records = chain()
    swapped = [replace(records[2], seq=2, fields={**records[2].fields, "seq": 2})]
    swapped.append(replace(records[1], seq=3, fields={**records[1].fields, "seq": 3}))
    records[1:3] = swapped
    assert any("edited" in p for p in hashchain.verify(records))


def test_a_time_hashes_the_same_whatever_its_offset():
    from datetime import timezone

    local = T0.astimezone(timezone(timedelta(hours=2)))
    naive_utc = T0.replace(tzinfo=None)
    assert (
        hashchain.canonical({"at": T0}) == hashchain.canonical({"at": local}) == hashchain.canonical({"at": naive_utc})
    )


def test_unhashable_values_are_refused():
    with pytest.raises(TypeError):
        hashchain.canonical({"x": object()})


# -- properties over generated ledgers -------------------------------------------------------------


@st.composite
def ledgers(draw):
    deductions = []
    for seq in range(1, draw(st.integers(0, 12)) + 1):
        at = T0 + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
        life = timedelta(days=draw(st.integers(1, 90)))
        subject = draw(st.sampled_from(["case-1", "case-2"]))
        deductions.append(deduction(seq, draw(st.integers(0, 5)), at, subject=subject, life=life))
    reversed_ = draw(st.lists(st.sampled_from(deductions), unique_by=lambda e: e.seq) if deductions else st.just([]))
    reversals = [reversal(len(deductions) + i + 1, entry) for i, entry in enumerate(reversed_)]
    return deductions + reversals


@settings(max_examples=200, deadline=None)
@given(ledgers(), st.integers(0, 150), st.integers(0, 150))
def test_generated_ledgers_obey_the_rules(entries, day_a, day_b):
    early, late = sorted((T0 + timedelta(days=day_a), T0 + timedelta(days=day_b)))
    at_early = balance(entries, early, CAP, WINDOW)
    groups = incidents(entries, early, CAP, WINDOW)
    assert at_early <= sum(e.points for e in entries if e.kind == DEDUCTION)
    assert all(incident.counted <= CAP for incident in groups)
    assert balance(entries, late, CAP, WINDOW) <= at_early  # time only lets points expire
    assert balance(list(reversed(entries)), early, CAP, WINDOW) == at_early  # order of rows does not matter
    reversed_all = entries + [reversal(1000 + e.seq, e) for e in standing(entries)]
    assert balance(reversed_all, early, CAP, WINDOW) == 0


def standing(entries):
    gone = {e.reverses for e in entries if e.kind == REVERSAL}
    return [e for e in entries if e.kind == DEDUCTION and e.seq not in gone]
