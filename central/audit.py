"""The audit log: every login, view of evidence, decision, reassignment, appeal, purge and configuration
change, append-only and hash-chained. Nothing here updates or deletes a row; the migration installs
triggers that refuse it, and `verify` shows it if someone goes around them."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from central import checkpoint, hashchain
from central.chain_store import chain_next, lock_chain, note_appended
from central.db import Base
from central.timeutil import UTCDateTime, iso_z, require_aware

CHAIN = "audit_log"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ("seq", "at", "actor", "action", "target", "details", "hash")


class AuditEntry(Base):
    """Who did what to which record, when, with the details that matter (reasons, counts)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(48), index=True)
    target: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def hashed_fields(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "details": self.details,
        }


def record(
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one audit entry in the caller's transaction (so a rolled-back action leaves no entry).
    `action` is dotted, e.g. "login.success", "evidence.view", "review.confirm", "purge.evidence",
    "config.catalogue". `details` must be JSON-serialisable. The entry's time is taken once the chain is
    locked: `now` (the clock when None), or the entry before's time if that is later, so that times never go
    backwards along the chain (chain_store.chain_next)."""
    wanted = require_aware(now) if now is not None else None
    payload = json.loads(json.dumps(details or {}, default=_json_default))
    lock_chain(session, CHAIN)
    seq, prev_hash, at = chain_next(session, AuditEntry, "at", wanted or datetime.now(UTC))
    entry = AuditEntry(seq=seq, at=at, actor=actor, action=action, target=target, details=payload, prev_hash=prev_hash)
    entry.hash = hashchain.link_hash(prev_hash, entry.hashed_fields())
    session.add(entry)
    session.flush()
    note_appended(session, CHAIN, seq, entry.hash)
    return entry


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value)
    raise TypeError(f"audit details cannot hold a {type(value).__name__}")


def entries(
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    limit: int | None = 500,
) -> list[AuditEntry]:
    """Entries oldest first, filtered; `action` matches exactly or, ending in ".", as a prefix ("review.")."""
    stmt = select(AuditEntry).order_by(AuditEntry.seq)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= require_aware(since, "since"))
    if until is not None:
        stmt = stmt.where(AuditEntry.at < require_aware(until, "until"))
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action is not None:
        stmt = stmt.where(
            AuditEntry.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else AuditEntry.action == action
        )
    if target is not None:
        stmt = stmt.where(AuditEntry.target == target)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def _cell(text: str) -> str:
    """Quote text a spreadsheet would run as a formula (=, +, -, @): auditors open these files."""
    return "'" + text if text[:1] in FORMULA_STARTS else text


def export_csv(session: Session, out: TextIO, **filters: Any) -> int:
    """Write the (filtered) log as CSV with a header row; returns the number of entries written."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for entry in entries(session, limit=None, **filters):
        writer.writerow(
            [
                entry.seq,
                iso_z(entry.at),
                _cell(entry.actor),
                _cell(entry.action),
                _cell(entry.target or ""),
                json.dumps(entry.details, sort_keys=True),
                entry.hash,
            ]
        )
        count += 1
    return count


def verify(session: Session, checkpoints: Sequence[checkpoint.Checkpoint] = ()) -> list[str]:
    """Problems in the audit chain, and between it and the signed `checkpoints` of it; [] when intact."""
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
    records = [hashchain.ChainRecord(r.seq, r.hashed_fields(), r.prev_hash, r.hash) for r in rows]
    return hashchain.verify(records, label="audit entry") + checkpoint.compare(records, checkpoints, "audit entry")
