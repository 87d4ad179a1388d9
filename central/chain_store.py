"""Appending to a hash-chained table safely when several central workers write at once."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from central.hashchain import GENESIS


def lock_chain(session: Session, name: str) -> None:
    """Serialise appends to chain `name` until the transaction ends. PostgreSQL takes a transaction-scoped
    advisory lock; SQLite already allows one writer at a time, and a racing writer gets an error from the
    primary key on `seq` rather than a forked chain."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())})


def chain_tail(session: Session, model: Any) -> tuple[int, str]:
    """(seq, hash) for the next record of `model`'s chain: the newest record's seq + 1 and its hash."""
    last = session.execute(select(model.seq, model.hash).order_by(model.seq.desc()).limit(1)).first()
    if last is None:
        return 1, GENESIS
    return last.seq + 1, last.hash
