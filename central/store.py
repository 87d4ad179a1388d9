"""Writing verified messages: idempotent by event id and by sha256, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Table, func, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from central.evidence_store import EvidenceStore
from central.tables import (
    CameraStatus,
    EvidenceBlob,
    EvidenceLink,
    Infraction,
    ItemStatus,
    QuarantinedMessage,
    table_of,
)
from central.verify import Accepted
from models.infraction import InfractionMessage
from models.item_status import ItemStatusMessage
from models.status import StatusMessage

Signed = TypeVar("Signed", InfractionMessage, ItemStatusMessage)
PAYLOAD_HEAD_BYTES = 1024


@dataclass(frozen=True)
class Quarantine:
    topic: str
    payload: bytes
    reason: str
    camera_id: str | None


def _insert(session: Session, table: Table) -> postgresql.Insert | sqlite.Insert:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def store_infractions(session: Session, messages: list[tuple[InfractionMessage, dict]], now: datetime) -> int:
    """Insert what is new (ON CONFLICT DO NOTHING); return how many were new. `messages` pairs each model
    with its payload exactly as signed."""
    if not messages:
        return 0
    rows = [
        {
            "event_id": str(message.event_id),
            "type": message.type,
            "site": message.site,
            "camera_id": message.camera_id,
            "started_at": message.started_at,
            "ended_at": message.ended_at,
            "zone": message.zone,
            "confidence": message.confidence,
            "redacted": message.redacted,
            "payload": payload,
            "review_state": "pending",
            "received_at": now,
        }
        for message, payload in messages
    ]
    # Parameters apart from the statement: SQLAlchemy caches the compiled statement and batches the rows
    # ("insertmanyvalues"), which is several times faster than compiling a fresh multi-row VALUES each time.
    statement = _insert(session, table_of(Infraction)).on_conflict_do_nothing()
    inserted = set(session.execute(statement.returning(table_of(Infraction).c.event_id), rows).scalars())
    links = [
        {"event_id": str(message.event_id), "sha256": ref.sha256, "media_type": ref.media_type, "role": ref.role}
        for message, _payload in messages
        if str(message.event_id) in inserted
        for ref in message.evidence
    ]
    if links:
        session.execute(_insert(session, table_of(EvidenceLink)).on_conflict_do_nothing(), links)
    return len(inserted)


def store_evidence(session: Session, blobs: EvidenceStore, items: Iterable[Accepted], now: datetime) -> int:
    """Bytes to disk by digest (idempotent), then a row per digest; links wait in their own table."""
    rows = {}
    for item in items:
        assert item.topic.sha256 is not None
        blobs.put(item.topic.sha256, item.payload)
        rows[item.topic.sha256] = {
            "sha256": item.topic.sha256,
            "size": len(item.payload),
            "camera_id": item.topic.camera,
            "received_at": now,
        }
    if not rows:
        return 0
    statement = _insert(session, table_of(EvidenceBlob)).on_conflict_do_nothing()
    return len(
        list(session.execute(statement.returning(table_of(EvidenceBlob).c.sha256), list(rows.values())).scalars())
    )


def update_status(session: Session, statuses: Iterable[StatusMessage], now: datetime) -> None:
    """Keep each camera's newest status; an older one arriving late never overwrites a newer one. A status with
    its send time also gives the box's clock offset from central's (network delay, well under a second, included)."""
    latest: dict[tuple[str, str], dict] = {}
    for status in statuses:
        row = {
            "site": status.site,
            "camera_id": status.camera_id,
            "state": status.state,
            "last_seen": status.at or now,
            "heartbeat": status.heartbeat.model_dump(mode="json") if status.heartbeat else None,
            "clock_offset_s": None if status.at is None else (status.at - now).total_seconds(),
        }
        key = (status.site, status.camera_id)
        if key not in latest or latest[key]["last_seen"] <= row["last_seen"]:
            latest[key] = row
    table = table_of(CameraStatus)
    # The Last Will carries no heartbeat: a camera's last figures stay on the page once it is offline.
    for beating in (True, False):
        rows = [row for row in latest.values() if (row["heartbeat"] is not None) == beating]
        if not rows:
            continue
        statement = _insert(session, table).values(rows)
        kept = {"heartbeat": statement.excluded.heartbeat} if beating else {}
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.site, table.c.camera_id],
            set_={
                "state": statement.excluded.state,
                "last_seen": statement.excluded.last_seen,
                **kept,
                # The Last Will carries no time: the last measured offset stays.
                "clock_offset_s": func.coalesce(statement.excluded.clock_offset_s, table.c.clock_offset_s),
            },
            where=table.c.last_seen <= statement.excluded.last_seen,
        )
        session.execute(statement)


def store_item_statuses(session: Session, messages: list[tuple[ItemStatusMessage, dict]], now: datetime) -> int:
    """Insert the new item statuses (ON CONFLICT DO NOTHING on `status_id`); return how many were new."""
    if not messages:
        return 0
    rows = [
        {
            "status_id": str(message.status_id),
            "event_id": str(message.event_id),
            "site": message.site,
            "camera_id": message.camera_id,
            "state": message.state,
            "at": message.at,
            "since_event_s": message.since_event_s,
            "payload": payload,
            "received_at": now,
        }
        for message, payload in messages
    ]
    table = table_of(ItemStatus)
    statement = _insert(session, table).on_conflict_do_nothing()
    return len(list(session.execute(statement.returning(table.c.status_id), rows).scalars()))


def quarantine(session: Session, items: Iterable[Quarantine], now: datetime) -> int:
    rows = [
        {
            "topic": item.topic[:1000],
            "camera_id": item.camera_id,
            "reason": item.reason,
            "size": len(item.payload),
            "payload_head": item.payload[:PAYLOAD_HEAD_BYTES],
            "received_at": now,
        }
        for item in items
    ]
    if rows:
        session.execute(insert(table_of(QuarantinedMessage)), rows)
    return len(rows)


def write_batch(session: Session, blobs: EvidenceStore, items: list[Accepted | Quarantine]) -> Counter:
    """Everything one batch holds, in one transaction the caller commits; returns what happened."""
    now = datetime.now(UTC)
    accepted = [item for item in items if isinstance(item, Accepted)]
    infractions = _signed(accepted, InfractionMessage)
    counts: Counter = Counter()
    counts["stored"] = store_infractions(session, infractions, now)
    counts["duplicates"] = len(infractions) - counts["stored"]
    counts["evidence"] = store_evidence(session, blobs, (i for i in accepted if i.topic.kind == "evidence"), now)
    item_statuses = _signed(accepted, ItemStatusMessage)
    counts["item_status"] = store_item_statuses(session, item_statuses, now)
    counts["duplicates"] += len(item_statuses) - counts["item_status"]
    statuses = [item.message for item in accepted if isinstance(item.message, StatusMessage)]
    update_status(session, statuses, now)
    counts["status"] = len(statuses)
    counts["quarantined"] = quarantine(session, (item for item in items if isinstance(item, Quarantine)), now)
    return counts


def _signed(accepted: list[Accepted], kind: type[Signed]) -> list[tuple[Signed, dict]]:
    """The accepted messages of one kind, each with its payload exactly as signed."""
    return [
        (item.message, item.signed) for item in accepted if isinstance(item.message, kind) and item.signed is not None
    ]
