"""Reading an infraction for display: its evidence, trajectory, rule trace, claim and review history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.review import service as review
from central.review.tables import Claim
from central.tables import EvidenceLink, Infraction
from models.rule_trace import TraceLine, trace_lines

# Event ids are UUIDs; anything else is refused before it reaches a query.
EVENT_ID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


@dataclass
class ItemRecord:
    infraction: Infraction
    keyframes: list[EvidenceLink]
    clips: list[EvidenceLink]
    trajectory: list[tuple[float, float]]
    trace: list[TraceLine]
    claim: Claim | None
    history: list[Any] = field(default_factory=list)

    @property
    def rule(self) -> dict[str, Any]:
        return self.infraction.payload.get("rule") or {}


def trajectory_points(payload: dict[str, Any]) -> list[tuple[float, float]]:
    """The track's coarse trajectory as (x, y) pairs normalised to the frame; malformed points are skipped."""
    points = (payload.get("track") or {}).get("trajectory") or []
    result = []
    for point in points:
        x, y = (point or {}).get("x"), (point or {}).get("y")
        if isinstance(x, int | float) and isinstance(y, int | float) and 0 <= x <= 1 and 0 <= y <= 1:
            result.append((float(x), float(y)))
    return result


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
    # Keep the order the camera listed its evidence in (first keyframe = the moment the rule fired).
    listed = [ref.get("sha256") for ref in infraction.payload.get("evidence") or []]
    links.sort(key=lambda link: listed.index(link.sha256) if link.sha256 in listed else len(listed))
    rule = infraction.payload.get("rule") or {}
    return ItemRecord(
        infraction=infraction,
        keyframes=[link for link in links if link.role == "keyframe"],
        clips=[link for link in links if link.role == "clip"],
        trajectory=trajectory_points(infraction.payload),
        trace=trace_lines(rule.get("thresholds") or {}, rule.get("measurements") or {}),
        claim=review.current_claim(session, infraction.event_id),
        history=list(review.history(session, infraction.event_id)),
    )
