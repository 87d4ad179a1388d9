"""Queue filters shared by the page and the API: parameter types that refuse anything but a plain id, and
the age buckets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import Path, Query

from models.infraction import InfractionType

NO_NUL = r"^[^\x00]*$"
"""Free text from forms: PostgreSQL cannot store NUL, so it is refused as invalid input up front."""
OPTIONAL_IDENT = r"^([A-Za-z0-9][A-Za-z0-9_-]{0,63})?$"
SUBJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
OPTIONAL_SUBJECT = r"^([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})?$"

RowId = Annotated[int, Path(ge=1, le=2_147_483_647, description="A row id (a 32-bit database integer).")]
"""Ids in paths, bounded so that a huge number is a 422 rather than an overflow inside the database driver."""

Age = Literal["", "lt1h", "lt24h", "gt24h", "gt7d"]
AGE_LABELS: dict[str, str] = {
    "": "any age",
    "lt1h": "under 1 hour",
    "lt24h": "under 24 hours",
    "gt24h": "over 24 hours",
    "gt7d": "over 7 days",
}
_AGE_SPANS = {
    "lt1h": timedelta(hours=1),
    "lt24h": timedelta(hours=24),
    "gt24h": timedelta(hours=24),
    "gt7d": timedelta(days=7),
}

CameraParam = Annotated[str, Query(pattern=OPTIONAL_IDENT, max_length=64, description="Camera id; empty for all.")]
TypeParam = Annotated[Literal["", InfractionType], Query(description="Infraction type; empty for all.")]
AgeParam = Annotated[Age, Query(description="Age bucket of the event: lt1h, lt24h, gt24h, gt7d; empty for all.")]


def age_bounds(age: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(older_than, newer_than) for an age bucket: `lt*` keeps events newer than now - span, `gt*` older ones."""
    if not age:
        return None, None
    cutoff = now - _AGE_SPANS[age]
    return (None, cutoff) if age.startswith("lt") else (cutoff, None)
