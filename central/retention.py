"""Evidence retention: bytes of rejected (or reversed) events are purged after `retention_rejected_days`,
of confirmed events once their appeal window has closed. Items still under review or under appeal keep
theirs. A blob shared by several events goes only when every one of them may lose it. What a camera said
about a littering item goes `litter_item_days` after it last spoke of it. Every purge is
written to the purge log and the audit log; the rows of events and ledger stay."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from central import audit
from central.db import Base
from central.evidence_store import EvidenceStore
from central.review.states import State
from central.review.tables import ReviewAction
from central.settings import CentralSettings
from central.tables import EvidenceBlob, EvidenceLink, Infraction, ItemStatus
from central.timeutil import UTCDateTime, as_utc, require_aware

log = logging.getLogger(__name__)
ACTOR = "retention"


class PurgeRecord(Base):
    """One evidence blob purged: which, when, for which events and why."""

    __tablename__ = "purge_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    event_ids: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    file_removed: Mapped[bool] = mapped_column(Boolean)


@dataclass(frozen=True)
class PurgeItem:
    sha256: str
    event_ids: tuple[str, ...]
    reason: str
    size: int


def _decided_at(session: Session) -> dict[str, tuple[str, datetime]]:
    """For each event whose state allows purging: (state, when it entered that state)."""
    purgeable = (State.REJECTED.value, State.CONFIRMED.value, State.REVERSED.value)
    entered = (
        select(ReviewAction.event_id, func.max(ReviewAction.at).label("at"))
        .join(Infraction, Infraction.event_id == ReviewAction.event_id)
        .where(Infraction.review_state.in_(purgeable), ReviewAction.to_state == Infraction.review_state)
        .group_by(ReviewAction.event_id)
        .subquery()
    )
    rows = session.execute(
        select(Infraction.event_id, Infraction.review_state, entered.c.at).join(
            entered, entered.c.event_id == Infraction.event_id
        )
    )
    return {row.event_id: (row.review_state, as_utc(row.at)) for row in rows}


def _why(state: str, since: datetime, now: datetime, settings: CentralSettings) -> str | None:
    """The reason the event's evidence may go at `now`, or None while it must stay."""
    if state in (State.REJECTED, State.REVERSED):
        if now - since >= timedelta(days=settings.retention_rejected_days):
            return f"{state} more than {settings.retention_rejected_days} days ago"
        return None
    if now - since >= timedelta(days=settings.appeal_window_days):
        return f"confirmed and the {settings.appeal_window_days}-day appeal window has closed"
    return None


def due(session: Session, now: datetime, settings: CentralSettings) -> list[PurgeItem]:
    """Blobs whose every linked event allows purging at `now`, oldest digest first."""
    now = require_aware(now)
    decided = _decided_at(session)
    links: dict[str, list[str]] = {}
    for link in session.scalars(select(EvidenceLink)):
        links.setdefault(link.sha256, []).append(link.event_id)
    items = []
    blobs = session.scalars(select(EvidenceBlob).where(EvidenceBlob.purged_at.is_(None)).order_by(EvidenceBlob.sha256))
    for blob in blobs:
        events = sorted(links.get(blob.sha256, []))
        reasons = []
        for event_id in events:
            state_since = decided.get(event_id)
            reason = _why(*state_since, now, settings) if state_since else None
            if reason is None:
                break
            reasons.append(reason)
        else:
            if events:
                items.append(PurgeItem(blob.sha256, tuple(events), "; ".join(sorted(set(reasons))), blob.size))
    return items


def purge(
    session: Session, store: EvidenceStore, settings: CentralSettings, now: datetime, dry_run: bool
) -> list[PurgeItem]:
    """Purge (or, with dry_run, only list) the evidence that is due. Each blob's file is deleted, its row
    marked `purged_at`, and the purge written to the purge log and the audit log."""
    now = require_aware(now)
    items = due(session, now, settings)
    if dry_run:
        return items
    for item in items:
        removed = store.delete(item.sha256)
        blob = session.get(EvidenceBlob, item.sha256)
        assert blob is not None
        blob.purged_at = now
        session.add(
            PurgeRecord(
                at=now,
                sha256=item.sha256,
                event_ids=",".join(item.event_ids),
                reason=item.reason,
                size=item.size,
                file_removed=removed,
            )
        )
        audit.record(
            session,
            ACTOR,
            "purge.evidence",
            f"evidence:{item.sha256}",
            {"event_ids": list(item.event_ids), "reason": item.reason, "size": item.size, "file_removed": removed},
            now=now,
        )
        log.info("purged evidence %s of %s: %s", item.sha256, ",".join(item.event_ids), item.reason)
    session.flush()
    return items


@dataclass(frozen=True)
class StaleItem:
    event_id: str
    statuses: int
    last_heard: datetime


def stale_items(session: Session, now: datetime, settings: CentralSettings) -> list[StaleItem]:
    """Littering items whose camera last spoke of them more than `litter_item_days` before `now`: off the Litter
    page, and their statuses due for deletion (they say where an item lay, not who dropped it, but nothing keeps
    a record for ever without a reason)."""
    before = require_aware(now) - timedelta(days=settings.litter_item_days)
    rows = session.execute(
        select(ItemStatus.event_id, func.count(), func.max(ItemStatus.at))
        .group_by(ItemStatus.event_id)
        .having(func.max(ItemStatus.at) < before)
        .order_by(ItemStatus.event_id)
    )
    return [StaleItem(event_id, count, as_utc(last)) for event_id, count, last in rows]


def purge_item_statuses(session: Session, settings: CentralSettings, now: datetime, dry_run: bool) -> list[StaleItem]:
    """Delete (or, with dry_run, only list) the statuses of the stale items; one audit entry per item."""
    items = stale_items(session, now, settings)
    if dry_run:
        return items
    for item in items:
        session.execute(delete(ItemStatus).where(ItemStatus.event_id == item.event_id))
        audit.record(
            session,
            ACTOR,
            "purge.item_statuses",
            f"event:{item.event_id}",
            {
                "statuses": item.statuses,
                "last_heard": item.last_heard.isoformat(),
                "reason": f"not heard of for more than {settings.litter_item_days} days",
            },
            now=now,
        )
        log.info("deleted %d item statuses of %s", item.statuses, item.event_id)
    session.flush()
    return items


def purge_log(session: Session, limit: int = 500) -> list[PurgeRecord]:
    return list(session.scalars(select(PurgeRecord).order_by(PurgeRecord.id.desc()).limit(limit)))
