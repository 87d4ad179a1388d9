"""Appending to a hash-chained table safely when several central workers write at once, and telling whoever
asked which entries a transaction appended once it has committed."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from central.hashchain import GENESIS
from central.timeutil import as_utc

_APPENDED = "curbwatch.chain_appended"
_ON_COMMIT = "curbwatch.chain_on_commit"


class Head(NamedTuple):
    """Entry `seq` of the chain in table `chain`, with its hash: the head of the chain when it was appended."""

    chain: str
    seq: int
    hash: str


def lock_chain(session: Session, table: str) -> None:
    """Serialise appends to the chain in `table` until the transaction ends, so the newest record read next
    is still the newest when the new one is written. PostgreSQL takes a transaction-scoped advisory lock.
    SQLite allows one writer at a time but the driver starts the transaction only at the first write, so a
    write that changes nothing takes the write lock before the newest record is read. Callers that lock
    both chains lock the audit log first, so two transactions never wait on each other's locks."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(table.encode())})
    else:
        session.execute(text(f"UPDATE {table} SET seq = seq WHERE 0 = 1"))


def chain_tail(session: Session, model: Any) -> tuple[int, str]:
    """(seq, hash) for the next record of `model`'s chain: the newest record's seq + 1 and its hash."""
    last = session.execute(select(model.seq, model.hash).order_by(model.seq.desc()).limit(1)).first()
    if last is None:
        return 1, GENESIS
    return last.seq + 1, last.hash


def chain_next(session: Session, model: Any, time_field: str, wanted: datetime) -> tuple[int, str, datetime]:
    """(seq, previous hash, time) for the next record of `model`'s chain, read after `lock_chain`. The time
    is `wanted` unless the newest record's (`time_field`) is later: then that one, so that times never go
    backwards along the chain. A caller stamps `now` before it waits for the lock, and a writer that
    stamped later may have appended first; the entry is timed when it joins the chain, not before."""
    column = getattr(model, time_field)
    last = session.execute(select(model.seq, model.hash, column).order_by(model.seq.desc()).limit(1)).first()
    if last is None:
        return 1, GENESIS, wanted
    previous = as_utc(last[2])
    return last.seq + 1, last.hash, max(as_utc(wanted), previous)


def chain_head(session: Session, model: Any) -> tuple[int, str]:
    """(number of records, hash of the newest) of `model`'s chain; (0, GENESIS) when it is empty."""
    seq, last_hash = chain_tail(session, model)
    return seq - 1, last_hash


def note_appended(session: Session, table: str, seq: int, hash: str) -> None:
    """Remember an entry appended in the session's transaction, for `on_commit`'s callback."""
    session.info.setdefault(_APPENDED, []).append(Head(table, seq, hash))


def on_commit(session: Session, callback: Callable[[list[Head]], None]) -> None:
    """Call `callback` with the entries the current transaction appended, in order, once it has committed
    (not at all when it rolls back or appended nothing): only committed entries are worth vouching for."""
    session.info[_ON_COMMIT] = callback


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    appended, callback = session.info.pop(_APPENDED, []), session.info.pop(_ON_COMMIT, None)
    if callback is not None and appended:
        callback(appended)


def _forget(session: Session) -> None:
    session.info.pop(_APPENDED, None)
    session.info.pop(_ON_COMMIT, None)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous: Any) -> None:
    # Any rollback, a savepoint's included, forgets every noted entry: vouching for fewer entries is safe,
    # vouching for one that was rolled back is not.
    _forget(session)


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: Any) -> None:
    # A session closed without committing ends its transaction without a rollback event.
    if transaction.parent is None:
        _forget(session)
