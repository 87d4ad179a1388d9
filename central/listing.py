"""What `central list` prints: stored infractions and quarantined messages, one JSON object a line."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.tables import Infraction, QuarantinedMessage
from models.infraction import utc_iso


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
