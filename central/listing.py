"""What `central list` prints: stored infractions, quarantined messages, or stored messages that break today's
checks (central/stored_check.py), one JSON object a line."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.stored_check import breaches, infraction_breaches
from central.tables import Infraction, ItemStatus, QuarantinedMessage
from models.item_status import ItemStatusMessage
from models.wire import utc_iso


def infraction_lines(session: Session) -> Iterator[dict]:
    """The message fields exactly as signed, plus `review_state`."""
    for row in session.scalars(select(Infraction).order_by(Infraction.started_at, Infraction.event_id)):
        yield {**row.payload, "review_state": row.review_state}


def quarantine_lines(session: Session) -> Iterator[dict]:
    for row in session.scalars(select(QuarantinedMessage).order_by(QuarantinedMessage.id)):
        yield {
            "reason": row.reason,
            "topic": row.topic,
            "camera_id": row.camera_id,
            "received_at": utc_iso(row.received_at) if row.received_at.tzinfo else row.received_at.isoformat() + "Z",
            "size": row.size,
            "payload_head_b64": base64.b64encode(row.payload_head).decode("ascii"),
        }


def invalid_lines(session: Session) -> Iterator[dict]:
    """Every stored infraction, then every item status, that breaks the checks, each with its breaches."""
    for row in session.scalars(select(Infraction).order_by(Infraction.received_at, Infraction.event_id)):
        found = infraction_breaches(row)
        if found:
            yield {"kind": "infraction", "id": row.event_id, "camera_id": row.camera_id, "breaches": found}
    for item in session.scalars(select(ItemStatus).order_by(ItemStatus.received_at, ItemStatus.status_id)):
        found = breaches(ItemStatusMessage, item.payload, item.received_at)
        if found:
            yield {"kind": "item", "id": item.status_id, "camera_id": item.camera_id, "breaches": found}
