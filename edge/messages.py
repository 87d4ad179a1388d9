"""Turn a rule's hit into the infraction message of DESIGN.md section 4."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from edge.rules.base import MAX_TRAJECTORY_POINTS, RuleHit, clamp01, coarse
from models.config.camera import CameraConfig
from models.infraction import EvidenceRef, InfractionMessage, ModelRef, RuleTrace, TrackInfo, TrajectoryPoint


def build_message(
    hit: RuleHit,
    config: CameraConfig,
    *,
    origin: datetime,
    model: ModelRef,
    evidence: list[EvidenceRef],
    redacted: bool,
) -> InfractionMessage:
    """`origin` is the wall time of source time 0 (replay start for files, process start for live)."""
    started = origin + timedelta(seconds=hit.t_start)
    ended = origin + timedelta(seconds=max(hit.t_end, hit.t_start))
    points = coarse(list(hit.trajectory), MAX_TRAJECTORY_POINTS)
    return InfractionMessage(
        event_id=uuid.uuid4(),
        type=hit.type,
        site=config.camera.site,
        camera_id=config.camera.id,
        started_at=started,
        ended_at=ended,
        frame_start=hit.frame_start,
        frame_end=max(hit.frame_end, hit.frame_start),
        zone=hit.zone,
        confidence=clamp01(hit.confidence),
        track=TrackInfo(
            id=max(0, hit.track_id),
            trajectory=[TrajectoryPoint(t=max(0.0, t), x=clamp01(x), y=clamp01(y)) for t, x, y in points],
        ),
        rule=RuleTrace(
            name=hit.type,
            version=hit.rule_version,
            thresholds=dict(hit.thresholds),
            measurements=dict(hit.measurements),
        ),
        signal_phase=hit.signal_phase if hit.signal_phase in ("walk", "dont_walk") else None,
        model=model,
        evidence=evidence,
        redacted=redacted,
    )
