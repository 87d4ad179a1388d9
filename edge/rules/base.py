"""What every rule returns and how the pipeline drives it.

A rule is a small state machine fed one `FrameSample` at a time; it never reads video, clocks or the
network, so its behaviour is fixed by the samples alone and can be tested on hand-written tracks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

from edge.samples import FrameSample
from models.config.camera import CameraConfig
from models.config.zones import ZoneKind
from models.infraction import MAX_TRAJECTORY_POINTS, InfractionType

Scalar = float | int | str | bool | None


@dataclass(frozen=True)
class RuleHit:
    """One infraction as a rule saw it; the pipeline turns it into an InfractionMessage."""

    type: InfractionType
    track_id: int
    """The person's track id (the first id of the crossing when the tracker switched ids)."""
    zone: str
    frame_start: int
    frame_end: int
    t_start: float
    t_end: float
    """Source seconds."""
    confidence: float
    trajectory: tuple[tuple[float, float, float], ...]
    """(seconds after t_start, x, y) normalised, coarse, at most 64 points."""
    thresholds: dict[str, Scalar]
    measurements: dict[str, Scalar]
    rule_version: str
    signal_phase: str | None = None
    """'walk' | 'dont_walk' | None (no signal configured, or its phase unknown)."""
    item_box: tuple[float, float, float, float] | None = None
    """Littering: the item, normalised."""
    item_id: int | None = None
    """Littering: the static item's id, by which the edge follows the item after the event."""
    key_frames: tuple[int, ...] = ()
    """3-5 frame indices worth showing (entry, middle, exit / drop, walk-away, fire)."""


class Rule(Protocol):
    name: ClassVar[str]
    needs_zone: ClassVar[ZoneKind]
    """The zone kind without which the rule cannot fire."""

    @staticmethod
    def enabled(config: CameraConfig) -> bool:
        """Whether the camera runs this rule."""
        ...

    @staticmethod
    def inputs(config: CameraConfig) -> tuple[object, ...]:
        """The settings the rule is built from: when they are equal, a reload keeps the rule and its tracks."""
        ...

    @classmethod
    def build(cls, config: CameraConfig) -> Rule:
        """The rule for this camera, on its own ground plane (metres when calibrated)."""
        ...

    def update(self, sample: FrameSample) -> list[RuleHit]:
        """Feed the next processed frame; return the infractions that completed with it."""
        ...

    def finish(self) -> list[RuleHit]:
        """End of stream: flush what qualifies."""
        ...


def coarse(
    points: list[tuple[float, float, float]], limit: int = MAX_TRAJECTORY_POINTS
) -> tuple[tuple[float, float, float], ...]:
    """Keep at most `limit` points, evenly spread, always the first and the last."""
    if len(points) <= limit:
        return tuple(points)
    step = (len(points) - 1) / (limit - 1)
    return tuple(points[round(i * step)] for i in range(limit))
