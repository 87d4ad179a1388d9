"""Appending to a hash-chained table safely when several central workers write at once."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from central.hashchain import GENESIS


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
