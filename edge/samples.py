"""What flows from detection and tracking into the rules: one `FrameSample` per processed frame.

Positions are normalised to the frame (0..1) so rules and zones do not depend on resolution; `t` is
seconds from the source (file position or wall clock), never a frame counter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from edge.boxes import Box, bottom_centre
from models.geometry import Point
from models.infraction import SignalPhase


@dataclass(frozen=True)
class Detection:
    cls: str
    confidence: float
    box: Box
    track_id: int | None = None

    @property
    def foot(self) -> Point:
        """Bottom centre of the box: where a person stands (DESIGN.md section 3)."""
        return bottom_centre(self.box)


@dataclass(frozen=True)
class StaticItem:
    """A region that appeared and stayed still, from the background models (littering candidates)."""

    item_id: int
    box: Box
    first_seen_t: float
    area: float
    last_seen_t: float | None = None
    """When the region was last seen; an item is kept a while after (people may hide it). None: in this frame."""


@dataclass(frozen=True)
class FrameSample:
    index: int
    t: float
    wall: datetime
    width: int
    height: int
    detections: tuple[Detection, ...] = ()
    static_items: tuple[StaticItem, ...] = ()
    detected: bool = True
    """False on frames the detector skipped (stride): tracks carry over, nothing new was seen."""
    signal_phase: SignalPhase | None = None
    """The pedestrian signal's phase, read with this frame; None when there is no signal or its phase is unknown."""
