"""UTC everywhere: a column type that stores and returns timezone-aware UTC on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def as_utc(value: datetime) -> datetime:
    """`value` as aware UTC; a naive value is taken to be UTC already (SQLite drops the offset)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def require_aware(value: datetime, name: str = "now") -> datetime:
    """Refuse naive times from callers: a naive `now` is a bug that would shift every expiry by the local offset."""
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got a naive datetime {value.isoformat()}")
    return value.astimezone(UTC)


def iso_z(value: datetime) -> str:
    """Canonical text of a time for hashing: UTC, microseconds, trailing Z."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp column that refuses naive input and always reads back aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else require_aware(value, "timestamp")

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else as_utc(value)
