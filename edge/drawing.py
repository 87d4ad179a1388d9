"""The camera's zones drawn on redacted frames for the operator's tools (the annotated replay video, the replay
report's figures). Evidence is never drawn on: the console draws the geometry from the event's message."""

from __future__ import annotations

import cv2
import numpy as np

from models.config.zones import Zone

ZONE_COLOURS = {
    "roadway": (60, 60, 230),
    "crosswalk": (230, 200, 60),
    "sidewalk": (120, 200, 120),
    "litter_watch": (40, 200, 240),
    "ignore": (140, 140, 140),
    "privacy": (90, 90, 90),
}
"""BGR, one per zone kind."""


def to_pixels(points: list[tuple[float, float]], width: int, height: int) -> np.ndarray:
    return np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in points], np.int32)


def draw_zone(image: np.ndarray, zone: Zone, thickness: int = 2) -> None:
    height, width = image.shape[:2]
    colour = ZONE_COLOURS[zone.kind]
    cv2.polylines(image, [to_pixels(list(zone.polygon), width, height)], True, colour, thickness, cv2.LINE_AA)
    x, y = to_pixels([zone.polygon[0]], width, height)[0]
    cv2.putText(image, zone.name, (int(x) + 3, int(y) + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
