"""Static-region detection for littering: regions that differ from a long-term background but match a
short-term one appeared and then stayed still."""

from __future__ import annotations

import numpy as np

from edge.samples import Box, StaticItem
from models.config.rules import LitteringConfig
from models.config.zones import Zone


class StaticRegionDetector:
    def __init__(self, zones: list[Zone], config: LitteringConfig, frame_size: tuple[int, int]) -> None:
        self.zones = zones
        self.config = config
        self.frame_size = frame_size

    def update(self, frame_bgr: np.ndarray, t: float, occluders: list[Box]) -> tuple[StaticItem, ...]:
        """Items present in this frame; `occluders` are normalised boxes of people, vehicles and bicycles."""
        return ()
