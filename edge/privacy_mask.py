"""Privacy zones: parts of the picture pixelated in every kept frame, whatever moves there or does not.

The detector does not find people a few pixels tall on a far pavement, and motion does not find them while they
stand still; an operator who sees such places in a camera's picture draws a `privacy` zone over them (windows of
homes too). This works on the redacted frame and never on what the detector sees, so rules are unaffected."""

from __future__ import annotations

import cv2
import numpy as np

from edge.boxes import Box
from edge.drawing import to_pixels
from edge.redact import pixelate
from models.config.zones import Zone


class PrivacyMask:
    def __init__(self, zones: list[Zone], block_px: int, outside: Box | None = None) -> None:
        """`outside`, when given, is the part of the frame the detector looks at (`edge.regions`): everything
        around it is pixelated too."""
        self.polygons = [zone.polygon for zone in zones if zone.kind == "privacy"]
        if outside is not None:
            self.polygons += _around(outside)
        self.block_px = block_px
        self._masks: dict[tuple[int, int], list[tuple[slice, slice, np.ndarray | None]]] = {}

    def apply(self, image: np.ndarray) -> None:
        """Pixelate, in place, every privacy zone of a frame: blocks of the zone's own bounding rectangle, copied
        back only inside the polygon, so the picture around it stays as it was."""
        for rows, cols, inside in self._masks_for(image.shape[1], image.shape[0]):
            region = image[rows, cols]
            if inside is None:
                pixelate(region, self.block_px)
                continue
            coarse = region.copy()
            pixelate(coarse, self.block_px)
            # OpenCV's masked copy: boolean indexing took 50 ms and np.copyto 2 ms on a strip of a frame, this 0.02.
            cv2.copyTo(coarse, inside, region)

    def _masks_for(self, width: int, height: int) -> list[tuple[slice, slice, np.ndarray | None]]:
        key = (width, height)
        if key not in self._masks:
            self._masks[key] = [_mask(polygon, width, height) for polygon in self.polygons]
        return self._masks[key]


def _around(window: Box) -> list[list[tuple[float, float]]]:
    """The frame outside `window` as up to four rectangles: above, below, left and right of it."""
    x1, y1, x2, y2 = window
    parts = [(0.0, 0.0, 1.0, y1), (0.0, y2, 1.0, 1.0), (0.0, y1, x1, y2), (x2, y1, 1.0, y2)]
    return [[(a, b), (c, b), (c, d), (a, d)] for a, b, c, d in parts if c - a > 0 and d - b > 0]


def _mask(polygon: list[tuple[float, float]], width: int, height: int) -> tuple[slice, slice, np.ndarray | None]:
    """The polygon's bounding rows and columns, and which pixels of them it covers (None: all of them, a
    rectangle such as the parts outside the detector's window)."""
    points = to_pixels(polygon, width, height)
    left, top = points.min(axis=0)
    right, bottom = points.max(axis=0) + 1
    inside = np.zeros((bottom - top, right - left), np.uint8)
    cv2.fillPoly(inside, [points - (left, top)], 1)
    return slice(top, bottom), slice(left, right), None if inside.all() else inside
