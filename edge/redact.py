"""Redaction at the source (DESIGN.md section 6): people are pixelated before any frame is kept.

A person box is remembered per track for `hold_s` after the detector last saw it, and grows while it is
held, so a frame where the detector misses someone (or skips the frame with stride) still hides them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from edge.detector import box_iou
from edge.samples import Box, Detection
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
        self, t: float, detections: tuple[Detection, ...], detected: bool, untracked_people: list[Box] = ()
    ) -> None:
        """Remember where people are; on stride-skipped frames nothing new is learnt and old boxes age.

        `untracked_people` are person boxes the tracker did not (yet) keep, low scores included: each one
        refreshes the remembered box it overlaps, or is remembered on its own."""
        if detected:
            tracked = [d for d in detections if d.cls == "person" and d.track_id is not None]
            for det in tracked:
                self._held[det.track_id] = _Held(det.box, t)
            loose = [d.box for d in detections if d.cls == "person" and d.track_id is None]
            for box in [*loose, *untracked_people]:
                if any(box_iou(box, d.box) > 0.5 for d in tracked):
                    continue
                key = next(
                    (k for k, h in self._held.items() if isinstance(k, tuple) and box_iou(box, h.box) > 0.3), None
                )
                if key is None:
                    self._untracked += 1
                    key = ("untracked", self._untracked)
                self._held[key] = _Held(box, t)
        self._held = {k: h for k, h in self._held.items() if t - h.last_t <= self.hold_s}

    def regions(self, t: float) -> list[Box]:
        """Normalised regions to hide at time t: every remembered person, grown with the time it was missed."""
        out = []
        for held in self._held.values():
            box = grow(held.box, PAD + HELD_GROWTH * max(0.0, t - held.last_t))
            if self.mode == "head":
                x1, y1, x2, y2 = box
                box = (x1, y1, x2, y1 + (y2 - y1) * HEAD_FRACTION)
            out.append(box)
        return out

    def apply(self, image: np.ndarray, t: float) -> np.ndarray:
        """A redacted copy of the frame (the input is left untouched)."""
        out = image.copy()
        if not self.enabled:
            return out
        height, width = out.shape[:2]
        for x1, y1, x2, y2 in self.regions(t):
            left, top = int(x1 * width), int(y1 * height)
            right, bottom = int(np.ceil(x2 * width)), int(np.ceil(y2 * height))
            if right - left < 1 or bottom - top < 1:
                continue
            pixelate(out[top:bottom, left:right], self.block_px)
        return out


def pixelate(region: np.ndarray, block_px: int) -> None:
    """Replace the region in place by coarse blocks of its mean colour."""
    h, w = region.shape[:2]
    block = max(block_px, -(-min(h, w) // MIN_BLOCKS))
    small = cv2.resize(region, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA)
    region[:] = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
