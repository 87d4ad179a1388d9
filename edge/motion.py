"""Cheap motion: differencing of a small grey frame against a background that follows the scene within a
second. It tells the detector when nothing moves (so it may rest), and tells redaction what moves that no
detection explains (far figures of a few pixels the model misses), so that it is pixelated too."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge.boxes import Box
from edge.redact import grow
from edge.shrink import shrink
from models.config.zones import Zone

WIDTH = 320
"""Working width in pixels: a figure 10 px tall in a 640 px frame is still 5 px tall here."""
BACKGROUND_S = 0.5
"""Time constant of the background: anything that moved within about this long shows as motion."""
DIFFERENCE = 18
"""Grey-level difference from the background that counts as motion (sensor noise and compression stay below)."""
MIN_PIXELS = 4
"""Smallest moving blob, in working pixels, that counts."""
SCENE_CHANGE = 0.3
"""When more of the frame than this moves at once, the light or the camera changed: the frame counts as moving
(the detector runs), but no blob is pixelated for it (that would blank the whole frame)."""
EXPLAINED_PAD = 0.15
"""A moving blob inside a detection's box grown by this share of its size on every side is that detection."""


@dataclass(frozen=True)
class Motion:
    """What moved in one frame: whether anything did outside `ignore` zones, and the moving blobs' boxes."""

    moving: bool
    blobs: tuple[Box, ...]
    vouched: bool = True
    """False when the blobs cannot be trusted to hold everything that moved: the first frame (no background yet)
    and a frame where the light or the camera changed. Redaction then cannot tell where a person the detector
    missed is, so such a frame is not kept as evidence."""

    def unexplained(self, boxes: list[Box]) -> list[Box]:
        """The blobs that lie outside every one of `boxes` (detections and the redactor's held boxes)."""
        if not self.blobs or not boxes:
            return list(self.blobs)
        # Every blob against every box at once: a busy street has hundreds of each on a kept frame.
        blobs = np.asarray(self.blobs)[:, None, :]
        grown = np.asarray([grow(box, EXPLAINED_PAD) for box in boxes])[None, :, :]
        inside = np.all(blobs[..., :2] >= grown[..., :2], axis=2) & np.all(blobs[..., 2:] <= grown[..., 2:], axis=2)
        held: list[bool] = np.any(inside, axis=1).tolist()
        return [blob for blob, explained in zip(self.blobs, held, strict=True) if not explained]


class MotionDetector:
    def __init__(self, zones: list[Zone], frame_size: tuple[int, int]) -> None:
        width, height = frame_size
        scale = min(1.0, WIDTH / max(width, 1))
        self.size = (max(8, round(width * scale)), max(8, round(height * scale)))
        self._background: np.ndarray | None = None
        self._last_t = 0.0
        self._counted = _counted_mask([z for z in zones if z.kind == "ignore"], self.size)

    def update(self, image: np.ndarray, t: float) -> Motion:
        small = shrink(image, self.size)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        gray = cv2.GaussianBlur(gray, (3, 3), 0).astype(np.float32)
        if self._background is None:
            self._background, self._last_t = gray, t
            return Motion(moving=True, blobs=(), vouched=False)
        rate = 1.0 - math.exp(-max(0.0, t - self._last_t) / BACKGROUND_S)
        self._last_t = t
        mask = (np.abs(gray - self._background) > DIFFERENCE).astype(np.uint8)
        self._background += rate * (gray - self._background)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
        counted = mask.astype(bool) & self._counted
        if float(counted.mean()) > SCENE_CHANGE:
            return Motion(moving=True, blobs=(), vouched=False)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        w, h = self.size
        blobs = tuple(
            (x / w, y / h, (x + bw) / w, (y + bh) / h)
            for x, y, bw, bh, area in (tuple(int(v) for v in stats[i]) for i in range(1, count))
            if area >= MIN_PIXELS
        )
        return Motion(moving=bool(counted.any()) and bool(blobs), blobs=blobs)


def _counted_mask(ignore: list[Zone], size: tuple[int, int]) -> np.ndarray:
    """Where motion counts for the detector: everywhere but the `ignore` zones (trees, a flag, a screen)."""
    w, h = size
    mask = np.ones((h, w), bool)
    for zone in ignore:
        points = np.array([[round(x * w), round(y * h)] for x, y in zone.polygon], np.int32)
        cv2.fillPoly(mask.view(np.uint8), [points], 0)
    return mask
