"""What the replay report gathers while the pipeline runs: per processed frame, how many people were seen and
which person tracks were alive, every person's foot point, and detections per class; plus one redacted frame
to draw the zones and the heat map on.

It sees samples, not pixels; the only picture it keeps comes from the pipeline's ring of already-redacted
frames (DESIGN.md section 6), so nothing raw can reach the report."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from edge.frame_ring import BufferedFrame, FrameRing
from edge.samples import FrameSample
from models.infraction import InfractionMessage

PERSON = "person"


@dataclass(frozen=True)
class FrameRow:
    """One processed frame on the report's timeline."""

    index: int
    t: float
    detected: bool
    persons: int
    tracks: tuple[int, ...]
    """Person track ids alive on this frame."""


class ReportCollector:
    """A FrameObserver for `Pipeline(observers=...)`; call `watch(pipeline.ring)` to also keep a backdrop."""

    def __init__(self) -> None:
        self.rows: list[FrameRow] = []
        self.feet: list[tuple[float, float]] = []
        self.classes: Counter[str] = Counter()
        self.size: tuple[int, int] | None = None
        """Source frame width and height."""
        self.scene: BufferedFrame | None = None
        self._ring: FrameRing | None = None
        self._scene_persons = math.inf

    def watch(self, ring: FrameRing) -> None:
        """Take the backdrop from this ring of redacted frames: the frame with the fewest people, so that
        redaction hides as little of the street as possible."""
        self._ring = ring

    def observe(self, sample: FrameSample, messages: list[InfractionMessage]) -> None:
        persons = [d for d in sample.detections if d.cls == PERSON]
        # Stride-skipped frames repeat the last detections; counting them again would weight the heat map.
        if sample.detected:
            self.feet.extend(d.foot for d in persons)
            self.classes.update(d.cls for d in sample.detections)
        tracks = tuple(sorted({d.track_id for d in persons if d.track_id is not None}))
        self.rows.append(FrameRow(sample.index, sample.t, sample.detected, len(persons), tracks))
        self.size = (sample.width, sample.height)
        if self._ring is not None and len(persons) < self._scene_persons:
            latest = self._ring.last()
            if latest is not None and latest.index == sample.index:
                self.scene = latest
                self._scene_persons = len(persons)

    def time_of(self, index: int) -> float | None:
        """Source seconds of a processed frame, None for a frame this replay did not see."""
        times = {row.index: row.t for row in self.rows}
        return times.get(index)

    def track_count(self) -> int:
        return len({track for row in self.rows for track in row.tracks})

    def heat_map(self, columns: int, rows: int) -> np.ndarray:
        """Foot points counted on a `rows` x `columns` grid over the frame (row 0 at the top)."""
        return heat_map(self.feet, columns, rows)


def heat_map(points: list[tuple[float, float]], columns: int, rows: int) -> np.ndarray:
    """Counts of normalised (x, y) points per cell of a `rows` x `columns` grid; the right and bottom edges
    (x or y of exactly 1.0) belong to the last cell."""
    if not points:
        return np.zeros((rows, columns), dtype=np.int64)
    xs, ys = np.array(points, dtype=float).T
    counts, _, _ = np.histogram2d(ys, xs, bins=(rows, columns), range=((0.0, 1.0), (0.0, 1.0)))
    return counts.astype(np.int64)
