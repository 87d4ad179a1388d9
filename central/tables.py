"""Tables the ingest side writes: infractions, evidence and its links, quarantine, camera status, item statuses.
Review, ledger, audit and user tables live beside the modules that own them, on the same Base."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, LargeBinary, String, Table, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from central.db import Base


class Infraction(Base):
    """One verified infraction message. `payload` is the message exactly as signed."""

    __tablename__ = "infractions"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(16), index=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    zone: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[float] = mapped_column(Float)
    redacted: Mapped[bool] = mapped_column(Boolean)
    payload: Mapped[dict] = mapped_column(JSON)
    review_state: Mapped[str] = mapped_column(String(24), default="pending", index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class EvidenceLink(Base):
    """Evidence a message lists; the bytes may arrive before or after the message."""

    __tablename__ = "infraction_evidence"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    media_type: Mapped[str] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(16))


class EvidenceBlob(Base):
    """Evidence bytes stored on disk under their sha256 (the file name is the digest)."""

    __tablename__ = "evidence"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    camera_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class QuarantinedMessage(Base):
    """A message that was refused, kept with the reason so an operator can see what went wrong."""

    __tablename__ = "quarantine"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    topic: Mapped[str] = mapped_column(Text)
    camera_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    reason: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    payload_head: Mapped[bytes] = mapped_column(
        LargeBinary, doc="The first bytes only: an oversize payload is not kept whole."
    )


class CameraStatus(Base):
    """The latest status message of each camera (online/offline and heartbeat figures)."""

    __tablename__ = "camera_status"

    site: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    clock_offset_s: Mapped[float | None] = mapped_column(
        Float,
        nullable=True,
        doc="The box's clock minus central's, from the newest status that carried its send time (`at`); positive "
        "when the box is ahead. A status delivered late (queued in the outbox through an outage) reads as behind "
        "until the next heartbeat.",
    )


class ItemStatus(Base):
    """What became of a littering event's item, as its camera said (models/item_status.py). No row names or
    describes anyone: who removed an item is never recorded."""

    __tablename__ = "item_statuses"

    status_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str] = mapped_column(
        String(36), index=True, doc="The littering event; its row may arrive after this one (no foreign key)."
    )
    site: Mapped[str] = mapped_column(String(64))
    camera_id: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), doc="Camera time of the observation.")
    since_event_s: Mapped[float] = mapped_column(Float)
    payload: Mapped[dict] = mapped_column(JSON, doc="The message exactly as signed.")
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


def table_of(model: type[Base]) -> Table:
    """The Table a declarative class maps to: every class here has one, but the stubs type `__table__` as the
    wider FromClause, which has no INSERT."""
    return cast(Table, model.__table__)
