"""Ledger tables: hash-chained entries, appeals against them, and the versioned points catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from central.db import Base
from central.timeutil import UTCDateTime

HASHED_FIELDS = (
    "seq",
    "created_at",
    "kind",
    "site",
    "subject_ref",
    "event_id",
    "infraction_type",
    "points",
    "catalogue_version",
    "reverses",
    "occurred_at",
    "expires_at",
    "decided_by",
    "second_by",
    "reason",
)


class LedgerEntry(Base):
    """One append-only entry. `kind` is "deduction" (points > 0) or "reversal" (points < 0, `reverses`
    names the deduction's seq). Never updated or deleted: the migration installs triggers that refuse it,
    and the hash chain shows it if someone goes around them."""

    __tablename__ = "ledger_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(16))
    site: Mapped[str] = mapped_column(String(64), index=True)
    subject_ref: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    infraction_type: Mapped[str] = mapped_column(String(16))
    points: Mapped[int] = mapped_column(Integer)
    catalogue_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reverses: Mapped[int | None] = mapped_column(Integer, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str] = mapped_column(String(64))
    second_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    def hashed_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in HASHED_FIELDS}


class Appeal(Base):
    """An appeal against one deduction; decided by a reviewer who took no part in confirming it."""

    __tablename__ = "ledger_appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_seq: Mapped[int] = mapped_column(Integer, index=True, unique=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reversal_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CatalogueRow(Base):
    """Points per infraction type in one catalogue version. Versions are appended, never edited, so every
    deduction can say which version priced it."""

    __tablename__ = "points_catalogue"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    infraction_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
