"""Times follow the chain (issue 29 §3): an audit or ledger entry is timed once its chain is locked, never earlier
than the entry before it, so reading either log by time reads it in chain order. Writers stamp `now` before
they wait for the lock; one that stamped later may append first."""

from __future__ import annotations

import itertools
import random
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from central import audit, decisions
from central.audit import AuditEntry
from central.db import transaction
from central.ledger import service as ledger
from central.ledger.tables import LedgerEntry
from central.review import service as review
from central.review.roles import Actor
from tests.review_support import SETTINGS, T0, add_infraction, factory_fixture  # noqa: F401  (fixture "factory")

WRITERS = 4
EACH = 15


def times(factory, model, column) -> list[datetime]:
    with transaction(factory) as s:
        return [as_aware(t) for t in s.scalars(select(column).order_by(model.seq))]


def as_aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def backwards(moments: list[datetime]) -> list[int]:
    """Positions (1-based seq) of entries timed earlier than the entry before them."""
    return [i + 2 for i, (a, b) in enumerate(itertools.pairwise(moments)) if b < a]


def run_writers(work) -> None:  # type: ignore[no-untyped-def]
    barrier, errors = threading.Barrier(WRITERS), []

    def writer(n: int) -> None:
        rng = random.Random(n)
        barrier.wait()
        try:
            for i in range(EACH):
                work(n, i, rng)
        except Exception as exc:  # the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []


def test_an_entry_stamped_before_the_one_before_it_takes_that_ones_time(factory):
    late, early = T0 + timedelta(seconds=2), T0 + timedelta(seconds=1)
    with transaction(factory) as s:
        audit.record(s, "alice", "evidence.view", "infraction:a", now=late)
    with transaction(factory) as s:
        entry = audit.record(s, "bob", "evidence.view", "infraction:b", now=early)
        assert (entry.seq, as_aware(entry.at)) == (2, late)
    with transaction(factory) as s:
        assert audit.verify(s) == []
    # A later time is kept as given.
    with transaction(factory) as s:
        assert as_aware(audit.record(s, "carol", "evidence.view", now=T0 + timedelta(seconds=3)).at) == T0 + timedelta(
            seconds=3
        )


def test_concurrent_audit_writers_never_time_an_entry_before_the_one_before_it(factory):
    def work(n: int, i: int, rng: random.Random) -> None:
        stamped = datetime.now(UTC)  # as a request stamps its `now` before its work
        threading.Event().wait(rng.random() * 0.004)
        with transaction(factory) as s:
            audit.record(s, f"writer-{n}", "evidence.view", f"infraction:{i}", now=stamped if i % 3 else None)

    run_writers(work)
    moments = times(factory, AuditEntry, AuditEntry.at)
    assert len(moments) == WRITERS * EACH
    assert backwards(moments) == []
    with transaction(factory) as s:
        assert audit.verify(s) == []


def test_concurrent_deductions_keep_both_chains_in_time_order(factory):
    with transaction(factory) as s:
        items = [[add_infraction(s, type="jaywalking") for _ in range(EACH)] for _ in range(WRITERS)]

    def work(n: int, i: int, rng: random.Random) -> None:
        reviewer = Actor(f"reviewer-{n}", "reviewer")
        stamped = datetime.now(UTC)
        threading.Event().wait(rng.random() * 0.004)
        with transaction(factory) as s:
            event_id = items[n][i]
            review.claim(s, event_id, reviewer, stamped, SETTINGS)
            state = decisions.decide(
                s, event_id, reviewer, "confirm", "clear evidence", "", f"case-{n}-{i}", stamped, SETTINGS
            )
            assert state == "confirmed"

    run_writers(work)
    created = times(factory, LedgerEntry, LedgerEntry.created_at)
    assert len(created) == WRITERS * EACH
    assert backwards(created) == []
    assert backwards(times(factory, AuditEntry, AuditEntry.at)) == []
    with transaction(factory) as s:
        assert ledger.verify_chain(s) == [] and audit.verify(s) == []
