"""Reading an infraction for display: its evidence, the geometry drawn over it (zone outline, trajectory, item box),
its time, rule trace, claim and review history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console.event_time import EventTime, event_time
from central.console.item_life import ItemLife, item_life
from central.review import service as review
from central.review.tables import Claim
from central.subject_mark import Point, in_listed_order, is_unit, keyframe_marks
from central.tables import CameraStatus, EvidenceLink, Infraction
from models.infraction import INFRACTION_SCHEMA_V1
from models.rule_catalogue import ITEM_RULES
from models.rule_trace import TraceLine, trace_lines

# Event ids are UUIDs; anything else is refused before it reaches a query.
EVENT_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


@dataclass
class ItemRecord:
    infraction: Infraction
    keyframes: list[EvidenceLink]
    clips: list[EvidenceLink]
    item_crops: list[EvidenceLink]
    """Composite pictures cut around a littering item (schema /2): not whole frames, so nothing is drawn over them."""
    trajectory: list[tuple[float, float]]
    marks: list[Point | None]
    """Per keyframe, where the event's person stood in it (central/subject_mark.py), or None."""
    zone_polygon: list[tuple[float, float]]
    item_box: tuple[float, float, float, float] | None
    when: EventTime
    trace: list[TraceLine]
    claim: Claim | None
    history: list[Any] = field(default_factory=list)
    life: ItemLife = field(default_factory=lambda: ItemLife([]))
    """A littering item's statuses since the event."""

    @property
    def rule(self) -> dict[str, Any]:
        return self.infraction.payload.get("rule") or {}

    @property
    def drawn_by_camera(self) -> bool:
        """Schema /1 evidence has the zone, part of the track and a caption burned in by the camera."""
        return self.infraction.payload.get("schema") == INFRACTION_SCHEMA_V1


def trajectory_points(payload: dict[str, Any]) -> list[tuple[float, float]]:
    """The track's coarse trajectory as (x, y) pairs normalised to the frame; malformed points are skipped."""
    points = (payload.get("track") or {}).get("trajectory") or []
    result = []
    for point in points:
        x, y = (point or {}).get("x"), (point or {}).get("y")
        if is_unit(x) and is_unit(y):
            result.append((float(x), float(y)))
    return result


def zone_outline(payload: dict[str, Any]) -> list[tuple[float, float]]:
    """The zone's polygon a /2 message carries, as (x, y) pairs; empty for /1 or anything malformed."""
    points = payload.get("zone_polygon")
    if not isinstance(points, list):
        return []
    pairs = [point for point in points if isinstance(point, list) and len(point) == 2]
    outline = [(float(x), float(y)) for x, y in pairs if is_unit(x) and is_unit(y)]
    return outline if len(outline) >= 3 else []


def item_box(payload: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """A littering item's [x1, y1, x2, y2] from a /2 message, or None."""
    box = payload.get("item_box")
    if not (isinstance(box, list) and len(box) == 4 and all(is_unit(v) for v in box)):
        return None
    if box[0] <= box[2] and box[1] <= box[3]:
        return (float(box[0]), float(box[1]), float(box[2]), float(box[3]))
    return None


def clock_offsets(session: Session, cameras: set[tuple[str, str]]) -> dict[tuple[str, str], float]:
    """Each camera box's last measured clock offset from central's (seconds, positive = ahead)."""
    if not cameras:
        return {}
    rows = session.execute(
        select(CameraStatus.site, CameraStatus.camera_id, CameraStatus.clock_offset_s).where(
            CameraStatus.camera_id.in_({camera for _, camera in cameras}), CameraStatus.clock_offset_s.is_not(None)
        )
    )
    return {(site, camera): offset for site, camera, offset in rows if (site, camera) in cameras and offset is not None}


def when_of(infraction: Infraction, offsets: dict[tuple[str, str], float]) -> EventTime:
    return event_time(infraction.payload, infraction.started_at, offsets.get((infraction.site, infraction.camera_id)))


def load_infraction(session: Session, event_id: str) -> Infraction:
    infraction = session.get(Infraction, event_id.lower())
    if infraction is None:
        raise HTTPException(404, "no such infraction")
    return infraction


def load_item(session: Session, event_id: str) -> ItemRecord:
    infraction = load_infraction(session, event_id)
    links = list(
        session.scalars(
            select(EvidenceLink).where(EvidenceLink.event_id == infraction.event_id).order_by(EvidenceLink.sha256)
        )
    )
    links = in_listed_order(infraction.payload, links)
    rule = infraction.payload.get("rule") or {}
    offsets = clock_offsets(session, {(infraction.site, infraction.camera_id)})
    keyframes = [link for link in links if link.role == "keyframe"]
    return ItemRecord(
        infraction=infraction,
        keyframes=keyframes,
        clips=[link for link in links if link.role == "clip"],
        item_crops=[link for link in links if link.role == "item_crop"],
        trajectory=trajectory_points(infraction.payload),
        marks=keyframe_marks(infraction.payload, infraction.started_at, infraction.ended_at, len(keyframes)),
        zone_polygon=zone_outline(infraction.payload),
        item_box=item_box(infraction.payload),
        when=when_of(infraction, offsets),
        trace=trace_lines(rule.get("thresholds") or {}, rule.get("measurements") or {}),
        claim=review.current_claim(session, infraction.event_id),
        history=list(review.history(session, infraction.event_id)),
        life=item_life(session, infraction.event_id) if infraction.type in ITEM_RULES else ItemLife([]),
    )
