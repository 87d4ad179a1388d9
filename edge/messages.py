"""Turn a rule's hit into the infraction message of DESIGN.md section 4 (schema /2: with the zone's outline, the
item's box and where the frames came from, for the console to draw and date the event), and what became of a
littering item into its item status message."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import PurePath

from edge.item_follow import ItemObservation
from edge.rules.base import RuleHit, Scalar, coarse
from models.config.camera import CameraConfig
from models.config.zones import Zone
from models.geometry import clamp01
from models.infraction import (
    MAX_CLIP_NAME,
    MAX_TRAJECTORY_POINTS,
    EvidenceRef,
    InfractionMessage,
    ModelRef,
    RuleTrace,
    SourceRef,
    TrackInfo,
    TrajectoryPoint,
)
from models.item_status import ItemStatusMessage
from models.portable import portable


def clip_name(uri: str) -> str:
    """A recorded file's base name as a message may carry it: no folders (they describe the box, not the event),
    no control characters or backslashes, at most MAX_CLIP_NAME characters keeping the extension."""
    name = "".join("_" if ord(c) < 32 or c in "\\\x7f" else c for c in PurePath(uri).name) or "video"
    if name in (".", ".."):
        name = "video"
    if len(name) > MAX_CLIP_NAME:
        suffix = PurePath(name).suffix[:16]
        name = name[: MAX_CLIP_NAME - len(suffix) - 1] + "~" + suffix
    return name


def build_message(
    hit: RuleHit,
    config: CameraConfig,
    *,
    origin: datetime,
    model: ModelRef,
    evidence: list[EvidenceRef],
    redacted: bool,
    zone: Zone | None = None,
    clip: str | None = None,
) -> InfractionMessage:
    """`origin` is the wall time of source time 0 (replay start for files, process start for live); `zone` the
    hit's zone as configured when it was judged; `clip` the recorded file's name, None for a live camera."""
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
        confidence=_unit(hit.confidence),
        track=TrackInfo(
            id=max(0, hit.track_id),
            trajectory=[TrajectoryPoint(t=portable(max(0.0, t)), x=_unit(x), y=_unit(y)) for t, x, y in points],
        ),
        rule=RuleTrace(
            name=hit.type,
            version=hit.rule_version,
            thresholds=_portable_values(hit.thresholds),
            measurements=_portable_values(hit.measurements),
        ),
        signal_phase=hit.signal_phase if hit.signal_phase in ("walk", "dont_walk") else None,
        model=model,
        evidence=evidence,
        redacted=redacted,
        zone_polygon=None if zone is None else [(_unit(x), _unit(y)) for x, y in zone.polygon],
        item_box=None if hit.item_box is None else _ordered_box(hit.item_box),
        source=SourceRef(kind="live")
        if clip is None
        else SourceRef(kind="file", clip=clip_name(clip), offset_s=portable(max(0.0, hit.t_start))),
    )


def build_item_status(observation: ItemObservation, config: CameraConfig, *, origin: datetime) -> ItemStatusMessage:
    """`origin` is the wall time of source time 0, as for the event the item belongs to."""
    return ItemStatusMessage(
        status_id=uuid.uuid4(),
        event_id=observation.event_id,
        site=config.camera.site,
        camera_id=config.camera.id,
        state=observation.state,
        at=origin + timedelta(seconds=observation.t),
        since_event_s=portable(max(0.0, observation.since_event_s)),
        item_box=_ordered_box(observation.box),
    )


def _unit(value: float) -> float:
    """A normalised coordinate or a score, in 0..1 and spelt alike by every JSON writer (models.portable)."""
    return portable(clamp01(value))


def _portable_values(entries: dict[str, Scalar]) -> dict[str, Scalar]:
    # bool is an int, never a float: flags pass through as they are
    return {key: portable(value) if isinstance(value, float) else value for key, value in entries.items()}


def _ordered_box(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x1, y1, x2, y2 = (_unit(v) for v in box)
    return min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)
