"""A bounded memory of the last seconds of ALREADY-REDACTED frames, kept as downscaled JPEG.

Rules fire after their hysteresis or grace time, so evidence has to be cut from frames that have already
gone by; only redacted pixels are ever kept, so nothing raw outlives its frame."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from edge.shrink import shrink

MAX_WIDTH = 640


@dataclass(frozen=True)
class BufferedFrame:
    index: int
    t: float
    jpeg: bytes

    def image(self) -> np.ndarray:
        image = cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), cv2.IMREAD_COLOR)
        # The ring only holds JPEGs it encoded itself, so decoding cannot fail.
        assert image is not None
        return image


def downscale(image: np.ndarray, max_width: int = MAX_WIDTH) -> np.ndarray:
    height, width = image.shape[:2]
    if width <= max_width:
        return image
    return shrink(image, (max_width, round(height * max_width / width)))


class FrameRing:
    def __init__(self, seconds: float, max_width: int = MAX_WIDTH, quality: int = 85) -> None:
        self.seconds = seconds
        self.max_width = max_width
        self.quality = quality
        self._frames: deque[BufferedFrame] = deque()

    def __len__(self) -> int:
        return len(self._frames)

    def add(self, index: int, t: float, redacted: np.ndarray) -> None:
        ok, data = cv2.imencode(".jpg", downscale(redacted, self.max_width), [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            return
        self._frames.append(BufferedFrame(index, t, data.tobytes()))
        while self._frames and t - self._frames[0].t > self.seconds:
            self._frames.popleft()

    def snapshot(self) -> FrameRing:
        """A frozen copy (frames are immutable, so this copies references only) for a background worker."""
        copy = FrameRing(self.seconds, self.max_width, self.quality)
        copy._frames = deque(self._frames)
        return copy

    def between(self, first_index: int, last_index: int) -> list[BufferedFrame]:
        return [f for f in self._frames if first_index <= f.index <= last_index]

    def nearest(self, index: int) -> BufferedFrame | None:
        return min(self._frames, key=lambda f: abs(f.index - index), default=None)

    def last(self) -> BufferedFrame | None:
        return self._frames[-1] if self._frames else None
