"""What became of a littering event's item, from the statuses its camera sent (models/item_status.py): the
item page's timeline and the "Litter on the ground" list. A status says where the item is, never who moved it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.tables import Infraction, ItemStatus
from central.timeutil import as_utc
from models.rule_catalogue import ITEM_RULES

WORDS = {"still_there": "still there", "removed": "removed", "unknown": "no longer watched"}
ON_THE_GROUND = ("still_there", "unknown")
"""Latest states that leave an item on the list: still there, or last known there before the camera stopped
watching (someone should look)."""


@dataclass(frozen=True)
class LifeStep:
    state: str
    at: datetime
    since_event_s: float

    @property
    def words(self) -> str:
        return WORDS.get(self.state, self.state)

    @property
    def minutes(self) -> str:
        return _duration(self.since_event_s)


@dataclass(frozen=True)
class ItemLife:
    steps: list[LifeStep]

    @property
    def last(self) -> LifeStep | None:
        return self.steps[-1] if self.steps else None

    def position(self, step: LifeStep) -> float:
        """Where a step sits on the timeline, 0..100, from the drop to the last status."""
        span = max((s.since_event_s for s in self.steps), default=0.0)
        return 100.0 * step.since_event_s / span if span > 0 else 100.0


@dataclass(frozen=True)
class LitterRow:
    infraction: Infraction
    latest: LifeStep


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes >= 120:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes} min" if minutes else f"{int(seconds)} s"


def _step(row: ItemStatus) -> LifeStep:
    return LifeStep(row.state, as_utc(row.at), row.since_event_s)


def item_life(session: Session, event_id: str) -> ItemLife:
    rows = session.scalars(
        select(ItemStatus).where(ItemStatus.event_id == event_id).order_by(ItemStatus.at, ItemStatus.since_event_s)
    )
    return ItemLife([_step(row) for row in rows])


def litter_on_the_ground(session: Session, heard_since: datetime) -> dict[tuple[str, str], list[LitterRow]]:
    """Per (site, camera): littering events whose item's latest status is still there (or no longer watched) and
    came at or after `heard_since` (older ones leave the list: see retention.stale_items), longest on the ground
    first."""
    latest = select(ItemStatus.event_id, func.max(ItemStatus.at).label("at")).group_by(ItemStatus.event_id).subquery()
    rows = session.execute(
        select(Infraction, ItemStatus)
        .join(latest, latest.c.event_id == Infraction.event_id)
        .join(ItemStatus, (ItemStatus.event_id == latest.c.event_id) & (ItemStatus.at == latest.c.at))
        .where(Infraction.type.in_(ITEM_RULES))
    )
    chosen: dict[str, LitterRow] = {}
    for infraction, status in rows:
        # Two statuses at the same instant: the one that ends the item's life (removed, unknown) wins.
        step, held = _step(status), chosen.get(infraction.event_id)
        if held is None or held.latest.state == "still_there":
            chosen[infraction.event_id] = LitterRow(infraction, step)
    by_camera: dict[tuple[str, str], list[LitterRow]] = {}
    for row in sorted(chosen.values(), key=lambda r: -r.latest.since_event_s):
        if row.latest.state in ON_THE_GROUND and row.latest.at >= heard_since:
            by_camera.setdefault((row.infraction.site, row.infraction.camera_id), []).append(row)
    return dict(sorted(by_camera.items()))
