"""Zones: named polygons in coordinates normalised to the frame (0..1)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from models.base import StrictModel
from models.geometry import polygon_area, self_intersection

ZoneKind = Literal["roadway", "crosswalk", "sidewalk", "litter_watch", "ignore", "privacy"]
Coordinate = Annotated[float, Field(ge=0.0, le=1.0)]
MAX_ZONE_POINTS = 256


class Zone(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 _.-]*$")]
    kind: Annotated[
        ZoneKind,
        Field(
            description="roadway, crosswalk, sidewalk: where the jaywalking rule places people; litter_watch: where "
            "the littering rule looks for dropped items; ignore: motion and items here do not count (trees, a flag, "
            "a screen); privacy: pixelated in every kept frame, whatever is there (far pavements where people are too "
            "small for the detector, windows of homes)."
        ),
    ]
    polygon: Annotated[
        list[tuple[Coordinate, Coordinate]],
        Field(
            min_length=3,
            max_length=MAX_ZONE_POINTS,
            description="At least 3 [x, y] points, each 0..1, not self-intersecting.",
        ),
    ]

    @field_validator("polygon")
    @classmethod
    def _simple(cls, polygon: list[tuple[float, float]]) -> list[tuple[float, float]]:
        crossing = self_intersection(polygon)
        if crossing is not None:
            i, j = crossing
            raise ValueError(f"polygon is self-intersecting: edge {i} crosses edge {j}")
        if polygon_area(polygon) <= 0.0:
            raise ValueError("polygon has no area (all points on one line)")
        return polygon
