"""The versioned points catalogue: how many points each infraction type is worth. A new version is
appended; existing versions are never edited, so every deduction names the version that priced it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import get_args

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central import audit
from central.ledger.tables import CatalogueRow
from central.review.errors import ReviewError
from models.infraction import InfractionType

INFRACTION_TYPES: tuple[str, ...] = get_args(InfractionType)
MAX_POINTS = 20


@dataclass(frozen=True)
class CatalogueVersion:
    version: int
    points: dict[str, int]
    created_at: datetime
    created_by: str


def current(session: Session) -> CatalogueVersion:
    """The newest version; ReviewError when the catalogue is empty (the database was not migrated)."""
    newest = session.scalar(select(func.max(CatalogueRow.version)))
    if newest is None:
        raise ReviewError("the points catalogue is empty: run `curbwatch central migrate`")
    return version(session, newest)


def version(session: Session, number: int) -> CatalogueVersion:
    rows = list(session.scalars(select(CatalogueRow).where(CatalogueRow.version == number)))
    if not rows:
        raise ReviewError(f"points catalogue version {number} does not exist")
    return CatalogueVersion(
        version=number,
        points={row.infraction_type: row.points for row in rows},
        created_at=rows[0].created_at,
        created_by=rows[0].created_by,
    )


def versions(session: Session) -> list[CatalogueVersion]:
    numbers = session.scalars(select(CatalogueRow.version).distinct().order_by(CatalogueRow.version))
    return [version(session, number) for number in numbers]


def points_for(session: Session, infraction_type: str) -> tuple[int, int]:
    """(catalogue version, points) for `infraction_type` in the current version."""
    catalogue = current(session)
    if infraction_type not in catalogue.points:
        raise ReviewError(f"catalogue version {catalogue.version} has no points for {infraction_type!r}")
    return catalogue.version, catalogue.points[infraction_type]


def publish(session: Session, points: dict[str, int], created_by: str, now: datetime) -> CatalogueVersion:
    """Append a new version giving points for every infraction type; audited as a configuration change."""
    if set(points) != set(INFRACTION_TYPES):
        raise ReviewError(f"a catalogue version must price exactly these types: {', '.join(INFRACTION_TYPES)}")
    for kind, value in points.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_POINTS:
            raise ReviewError(f"points for {kind} must be a whole number from 0 to {MAX_POINTS}, got {value!r}")
    number = (session.scalar(select(func.max(CatalogueRow.version))) or 0) + 1
    for kind, value in sorted(points.items()):
        session.add(
            CatalogueRow(version=number, infraction_type=kind, points=value, created_at=now, created_by=created_by)
        )
    session.flush()
    audit.record(session, created_by, "config.catalogue", f"catalogue:{number}", {"points": points}, now=now)
    return version(session, number)
