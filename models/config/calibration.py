"""Optional ground-plane calibration: four image points and where they lie on the ground, in metres.

With it the rules measure distances in metres and speeds in m/s; without it in frame widths."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from models.base import StrictModel

Coordinate = Annotated[float, Field(ge=0.0, le=1.0)]
Metres = Annotated[float, Field(ge=-10000.0, le=10000.0)]
Quad = list[tuple[float, float]]


def _no_three_collinear(points: Quad, what: str, eps: float) -> Quad:
    for skip in range(4):
        a, b, c = (p for i, p in enumerate(points) if i != skip)
        twice_area = abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
        if twice_area <= eps:
            raise ValueError(f"three of the four {what} lie on one line; pick four corners of a quadrilateral")
    return points


class CalibrationConfig(StrictModel):
    image_points: Annotated[
        list[tuple[Coordinate, Coordinate]],
        Field(min_length=4, max_length=4, description="Four [x, y] image points, normalised to the frame."),
    ]
    ground_points: Annotated[
        list[tuple[Metres, Metres]],
        Field(min_length=4, max_length=4, description="The same four points on the ground, [x, y] in metres."),
    ]

    @field_validator("image_points")
    @classmethod
    def _image_quad(cls, points: Quad) -> Quad:
        return _no_three_collinear(points, "image points", 1e-6)

    @field_validator("ground_points")
    @classmethod
    def _ground_quad(cls, points: Quad) -> Quad:
        return _no_three_collinear(points, "ground points", 1e-4)
