"""The pedestrian signal a camera may know about (DESIGN.md section 3): none, a fixed-time plan, a lamp read
by colour in the image, or an MQTT topic fed by the signal controller."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from models.base import StrictModel
from models.geometry import polygon_area

Coordinate = Annotated[float, Field(ge=0.0, le=1.0)]
Hue = Annotated[int, Field(ge=0, le=179, description="OpenCV hue, 0..179.")]


class NoSignal(StrictModel):
    mode: Literal["none"] = "none"


class FixedSignal(StrictModel):
    """A fixed-time plan: walk for `walk_s` at the start of every cycle, shifted by `offset_s`."""

    mode: Literal["fixed"]
    cycle_s: Annotated[float, Field(gt=0.0, le=600.0, description="Length of one signal cycle in seconds.")]
    offset_s: Annotated[
        float, Field(ge=0.0, le=600.0, description="When walk starts, in seconds after the start of the cycle.")
    ] = 0.0
    walk_s: Annotated[float, Field(gt=0.0, le=600.0, description="How long walk shows in each cycle.")]
    clock: Annotated[
        Literal["wall", "source"],
        Field(
            description="'wall': cycles start at whole multiples of cycle_s since the Unix epoch (controllers "
            "synchronised to UTC); 'source': since the start of the video."
        ),
    ] = "wall"

    @model_validator(mode="after")
    def _walk_inside_cycle(self) -> FixedSignal:
        if self.walk_s >= self.cycle_s:
            raise ValueError(f"walk_s ({self.walk_s}) must be shorter than cycle_s ({self.cycle_s})")
        return self


class HueRange(StrictModel):
    low: Hue
    high: Hue
    """Inclusive; low > high wraps around 179 -> 0 (red)."""


class LampSignal(StrictModel):
    """Read the pedestrian lamp in the image: lit, saturated pixels of the walk or the don't-walk colour."""

    mode: Literal["lamp"]
    roi: Annotated[
        list[tuple[Coordinate, Coordinate]],
        Field(min_length=3, max_length=32, description="Polygon around the lamp, normalised [x, y] points."),
    ]
    walk_hue: Annotated[HueRange, Field(description="Hue of the lit walk lamp (green by default).")] = HueRange(
        low=40, high=95
    )
    dont_walk_hue: Annotated[HueRange, Field(description="Hue of the lit don't-walk lamp (red by default).")] = (
        HueRange(low=165, high=12)
    )
    min_saturation: Annotated[int, Field(ge=0, le=255, description="A lit lamp pixel is at least this saturated.")] = 90
    min_value: Annotated[int, Field(ge=0, le=255, description="A lit lamp pixel is at least this bright.")] = 140
    min_fraction: Annotated[
        float, Field(gt=0.0, le=1.0, description="Share of the region's pixels that must be lit to read a phase.")
    ] = 0.03
    hold_s: Annotated[
        float,
        Field(ge=0.0, le=30.0, description="Keep the last phase this long while the lamp reads dark (flashing)."),
    ] = 1.5

    @model_validator(mode="after")
    def _has_area(self) -> LampSignal:
        if polygon_area(self.roi) <= 0.0:
            raise ValueError("roi has no area")
        return self


class MqttSignal(StrictModel):
    """Phases published by the signal controller: payload 'walk' / 'dont_walk', or JSON {"phase": ...}."""

    mode: Literal["mqtt"]
    topic: Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^#+]+$", description="Exact topic.")]
    stale_s: Annotated[
        float, Field(gt=0.0, le=3600.0, description="A phase older than this is unknown (controller silent).")
    ] = 10.0


SignalConfig = Annotated[NoSignal | FixedSignal | LampSignal | MqttSignal, Field(discriminator="mode")]
