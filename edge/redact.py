"""Redaction at the source (DESIGN.md section 6): people are pixelated before any frame is kept.

It fails closed. A person box is remembered per track for `hold_s` after the detector last saw it; on frames
between detections it is carried along the track's last motion and grows with the time since it was seen, so
a frame the detector skips (or where it misses someone) still hides them. Whatever moves in the frame that no
detection explains (far figures of a few pixels the model does not see) is pixelated too."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from edge.boxes import Box, iou
from edge.samples import Detection
from edge.shrink import shrink
from models.config.redaction import RedactionConfig

log = logging.getLogger(__name__)

PAD = 0.08
"""Fraction of the box added on every side even when freshly detected: detector boxes are tight."""
HELD_GROWTH = 0.25
"""Extra fraction per side, per second held, for a box whose person was not seen in this frame."""
HEAD_FRACTION = 0.35
"""Share of a person box, from the top, that mode `head` covers."""
MIN_BLOCKS = 6
"""A region is pixelated into at most this many blocks across its shorter side, so no large, close
person keeps enough detail to be recognised (or re-detected) however small `block_px` is."""


@dataclass
class _Held:
    box: Box
    last_t: float
    velocity: tuple[float, float] = (0.0, 0.0)
    """Of the box, in normalised units per second, from its last two detections."""


def grow(box: Box, fraction: float) -> Box:
    """The box enlarged by `fraction` of its width/height on every side, clipped to the frame."""
    x1, y1, x2, y2 = box
    dx, dy = (x2 - x1) * fraction, (y2 - y1) * fraction
    return (max(0.0, x1 - dx), max(0.0, y1 - dy), min(1.0, x2 + dx), min(1.0, y2 + dy))


class Redactor:
    def __init__(self, config: RedactionConfig, hold_s: float = 1.5) -> None:
        self.mode = config.mode
        self.block_px = config.block_px
        self.hold_s = hold_s
        self._held: dict[object, _Held] = {}
        self._untracked = 0

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    def update(
        self, t: float, detections: tuple[Detection, ...], detected: bool, untracked_people: Sequence[Box] = ()
    ) -> None:
        """Remember where people are; on stride-skipped frames nothing new is learnt and old boxes age.

        `untracked_people` are person boxes the tracker did not (yet) keep, low scores included: each one
        refreshes the remembered box it overlaps, or is remembered on its own."""
        if detected:
            tracked = [d for d in detections if d.cls == "person" and d.track_id is not None]
            for det in tracked:
                self._held[det.track_id] = _Held(det.box, t, _velocity(self._held.get(det.track_id), det.box, t))
            loose = [d.box for d in detections if d.cls == "person" and d.track_id is None]
            for box in [*loose, *untracked_people]:
                if any(iou(box, d.box) > 0.5 for d in tracked):
                    continue
                key = next((k for k, h in self._held.items() if isinstance(k, tuple) and iou(box, h.box) > 0.3), None)
                if key is None:
                    self._untracked += 1
                    key = ("untracked", self._untracked)
                elif self._held[key].last_t == t:
                    # two overlapping people in one detection run: hide both, not just the last one
                    box = _union(self._held[key].box, box)
                self._held[key] = _Held(box, t)
        self._held = {k: h for k, h in self._held.items() if t - h.last_t <= self.hold_s}

    def regions(self, t: float) -> list[Box]:
        """Normalised regions to hide at time t: every remembered person, from where it was seen to where its
        motion would have carried it since, grown with the time it was missed."""
        out = []
        for held in self._held.values():
            since = max(0.0, t - held.last_t)
            box = grow(_swept(held, since), PAD + HELD_GROWTH * since)
            if self.mode == "head":
                x1, y1, x2, y2 = box
                box = (x1, y1, x2, y1 + (y2 - y1) * HEAD_FRACTION)
            out.append(box)
        return out

    def apply(self, image: np.ndarray, t: float, moving: Sequence[Box] = ()) -> np.ndarray:
        """A redacted copy of the frame (the input is left untouched); `moving` are regions that move where no
        detection explains them, pixelated as well (grown like a fresh person box)."""
        out = image.copy()
        if not self.enabled:
            return out
        height, width = out.shape[:2]
        for x1, y1, x2, y2 in [*self.regions(t), *(grow(box, PAD) for box in moving)]:
            left, top = int(x1 * width), int(y1 * height)
            right, bottom = int(np.ceil(x2 * width)), int(np.ceil(y2 * height))
            if right - left < 1 or bottom - top < 1:
                continue
            pixelate(out[top:bottom, left:right], self.block_px)
        return out

    def apply_whole(self, image: np.ndarray) -> np.ndarray:
        """A copy with the whole frame pixelated: for a frame whose motion cannot show where a missed person is."""
        out = image.copy()
        pixelate(out, self.block_px)
        return out


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _velocity(previous: _Held | None, box: Box, t: float) -> tuple[float, float]:
    if previous is None or t <= previous.last_t:
        return (0.0, 0.0)
    dt = t - previous.last_t
    old, new = previous.box, box
    return (((new[0] + new[2]) - (old[0] + old[2])) / 2.0 / dt, ((new[1] + new[3]) - (old[1] + old[3])) / 2.0 / dt)


def _swept(held: _Held, since: float) -> Box:
    """The box and where its last motion carries it after `since` seconds, as one box covering both."""
    dx, dy = held.velocity[0] * since, held.velocity[1] * since
    x1, y1, x2, y2 = held.box
    return (
        max(0.0, min(x1, x1 + dx)),
        max(0.0, min(y1, y1 + dy)),
        min(1.0, max(x2, x2 + dx)),
        min(1.0, max(y2, y2 + dy)),
    )


def pixelate(region: np.ndarray, block_px: int) -> None:
    """Replace the region in place by coarse blocks of its mean colour."""
    h, w = region.shape[:2]
    block = max(block_px, -(-min(h, w) // MIN_BLOCKS))
    small = shrink(region, (max(1, w // block), max(1, h // block)))
    region[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
