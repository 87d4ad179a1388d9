"""Distances on the ground: metres through the optional 4-point calibration, frame widths without it."""

from __future__ import annotations

import math

import cv2
import numpy as np

from models.config.calibration import CalibrationConfig
from models.geometry import Point


class GroundPlane:
    """Maps normalised image points to the ground. `metric` tells whether distances are metres (calibrated)
    or frame widths (both offsets scaled by the frame width, so the unit does not depend on aspect ratio)."""

    def __init__(self, calibration: CalibrationConfig | None, frame_size: tuple[int, int] = (1, 1)) -> None:
        self.metric = calibration is not None
        width, height = frame_size
        self._aspect = height / width if width > 0 and height > 0 else 1.0
        self._h: np.ndarray | None = None
        if calibration is not None:
            src = np.array(calibration.image_points, dtype=np.float32)
            dst = np.array(calibration.ground_points, dtype=np.float32)
            self._h = cv2.getPerspectiveTransform(src, dst).astype(np.float64)

    @property
    def aspect(self) -> float:
        """Frame height over width: the factor that turns normalised vertical offsets into frame widths."""
        return self._aspect

    @property
    def unit(self) -> str:
        return "m" if self.metric else "frame_widths"

    def with_frame_size(self, width: int, height: int) -> GroundPlane:
        """Set the aspect ratio used for uncalibrated distances from the frame size; cheap enough for every frame."""
        if width > 0 and height > 0:
            self._aspect = height / width
        return self

    def to_ground(self, point: Point) -> Point:
        if self._h is None:
            return (point[0], point[1] * self._aspect)
        x, y = point
        h = self._h
        w = h[2, 0] * x + h[2, 1] * y + h[2, 2]
        if abs(w) < 1e-12:
            w = 1e-12
        return ((h[0, 0] * x + h[0, 1] * y + h[0, 2]) / w, (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / w)

    def frame_widths(self, a: Point, b: Point) -> float:
        """Image distance in frame widths, whatever the calibration (for tracker-level tests)."""
        return math.hypot(a[0] - b[0], (a[1] - b[1]) * self._aspect)

    def distance(self, a: Point, b: Point) -> float:
        ga, gb = self.to_ground(a), self.to_ground(b)
        return math.hypot(ga[0] - gb[0], ga[1] - gb[1])
