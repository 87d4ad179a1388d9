"""The one place tuning reads the database: decided events of one camera and rule with their stored rule trace
and the decision that stands, and which cameras and rules have any."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.review.states import State
from central.review.tables import ReviewAction
from central.tables import Infraction
from central.timeutil import as_utc

DECIDED = (State.CONFIRMED.value, State.APPEALED.value, State.REVERSED.value, State.REJECTED.value)
STANDING = ("confirm", "reject", "reverse")
"""Review actions that settle what an event is: a decision, or an appeal granted against a confirmation."""
LIMIT = 2000
"""The newest decided events a what-if looks at: enough to tune with, bounded so a page stays quick."""


@dataclass(frozen=True)
class Reviewed:
    event_id: str
    started_at: datetime
    decision: str
    """The standing decision: "confirm", "reject", or "reverse" (an appeal granted: the confirmation no longer
    stands, for the appeal's reason)."""
    reason: str | None
    thresholds: dict[str, Any]
    measurements: dict[str, Any]
    rule_version: str


@dataclass(frozen=True)
class CameraRule:
    site: str
    camera: str
    rule: str


def camera_rules(session: Session) -> list[CameraRule]:
    rows = session.execute(
        select(Infraction.site, Infraction.camera_id, Infraction.type)
        .where(Infraction.review_state.in_(DECIDED))
        .distinct()
        .order_by(Infraction.site, Infraction.camera_id, Infraction.type)
    )
    return [CameraRule(*row) for row in rows]


def reviewed(session: Session, where: CameraRule, limit: int = LIMIT) -> list[Reviewed]:
    """The newest `limit` decided events of the camera and rule, oldest first."""
    events = list(
        session.execute(
            select(Infraction.event_id, Infraction.started_at, Infraction.payload)
            .where(
                Infraction.site == where.site,
                Infraction.camera_id == where.camera,
                Infraction.type == where.rule,
                Infraction.review_state.in_(DECIDED),
            )
            .order_by(Infraction.started_at.desc())
            .limit(limit)
        )
    )
    standing: dict[str, tuple[str, str | None]] = {}
    ids = [event_id for event_id, _, _ in events]
    for start in range(0, len(ids), 500):
        for event_id, action, reason in session.execute(
            select(ReviewAction.event_id, ReviewAction.action, ReviewAction.reason)
            .where(ReviewAction.event_id.in_(ids[start : start + 500]), ReviewAction.action.in_(STANDING))
            .order_by(ReviewAction.id)
        ):
            standing[event_id] = (action, reason)  # the last one read stands
    result = []
    for event_id, started_at, payload in reversed(events):
        if event_id not in standing:
            continue
        rule = payload.get("rule") or {}
        action, reason = standing[event_id]
        result.append(
            Reviewed(
                event_id=event_id,
                started_at=as_utc(started_at),
                decision=action,
                reason=reason,
                thresholds=dict(rule.get("thresholds") or {}),
                measurements=dict(rule.get("measurements") or {}),
                rule_version=str(rule.get("version", "unknown")),
            )
        )
    return result
