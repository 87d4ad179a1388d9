"""Rule switches and thresholds (DESIGN.md section 3). Times are seconds of source time. Distances come in
two units: frame widths (horizontal and vertical offsets both measured in widths of the frame) when the
camera has no ground calibration, metres (the `_m` fields) when it has one."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from models.base import StrictModel

FrameWidths = Annotated[float, Field(ge=0.0, le=2.0)]


class JaywalkingConfig(StrictModel):
    enabled: Annotated[bool, Field(description="Run the jaywalking rule on this camera.")] = True
    min_duration_s: Annotated[
        float, Field(ge=0.0, le=60.0, description="Time in the roadway (outside crosswalks) before it counts.")
    ] = 1.0
    min_distance: Annotated[
        float, Field(ge=0.0, le=2.0, description="Or distance walked there, in frame widths (uncalibrated).")
    ] = 0.1
    min_distance_m: Annotated[
        float, Field(ge=0.0, le=100.0, description="Or distance walked there, in metres (calibrated cameras).")
    ] = 2.0
    min_move: Annotated[
        float,
        Field(
            ge=0.0,
            le=1.0,
            description="The time criterion also needs the foot to move this far (frame widths), so someone "
            "standing still at the kerb edge never counts.",
        ),
    ] = 0.03
    min_move_m: Annotated[float, Field(ge=0.0, le=20.0, description="The same in metres (calibrated cameras).")] = 0.5
    min_depth: Annotated[
        float,
        Field(
            ge=0.0,
            le=0.5,
            description="How far inside the roadway (frame widths, in the image, whatever the calibration) the "
            "foot must get at some point: walkers along the kerb line, loosely drawn zones and box jitter stay "
            "below it.",
        ),
    ] = 0.025
    exit_grace_s: Annotated[
        float,
        Field(ge=0.0, le=30.0, description="Time outside the roadway before a crossing ends (hysteresis)."),
    ] = 1.0
    max_crossing_s: Annotated[
        float,
        Field(ge=1.0, le=600.0, description="Report a qualifying crossing after this long even if it has not ended."),
    ] = 30.0
    min_person_confidence: Annotated[
        float, Field(ge=0.0, le=1.0, description="Person detections below this confidence are not used.")
    ] = 0.3
    id_switch_s: Annotated[
        float,
        Field(
            ge=0.0,
            le=10.0,
            description="A track that starts this soon after another ended near it continues its crossing "
            "(tracker id switches; no appearance features are used).",
        ),
    ] = 1.5
    id_switch_distance: Annotated[
        float, Field(ge=0.0, le=1.0, description="How near (frame widths) that new track must start.")
    ] = 0.08


class StaticRegionConfig(StrictModel):
    """The long-term / short-term background models that find items which appeared and stayed still."""

    background_long_s: Annotated[
        float, Field(ge=5.0, le=3600.0, description="Time constant of the long-term background (what was there).")
    ] = 120.0
    background_short_s: Annotated[
        float, Field(ge=0.2, le=60.0, description="Time constant of the short-term background (what is still now).")
    ] = 1.0
    diff_threshold: Annotated[
        int, Field(ge=5, le=128, description="Grey-level difference (after gain compensation) that counts as change.")
    ] = 28
    min_item_area: Annotated[
        float, Field(ge=0.0, le=0.5, description="Smallest item, as a fraction of the frame area.")
    ] = 0.0002
    max_item_area: Annotated[
        float, Field(gt=0.0, le=1.0, description="Largest item, as a fraction of the frame area.")
    ] = 0.05
    max_changed_fraction: Annotated[
        float,
        Field(
            gt=0.0,
            le=1.0,
            description="When more of the frame than this changes at once (lighting, camera moved), the "
            "background is rebuilt instead of reporting items.",
        ),
    ] = 0.3
    item_hold_s: Annotated[
        float, Field(ge=0.0, le=30.0, description="Keep an item this long after its region stops showing.")
    ] = 1.0
    warmup_s: Annotated[
        float, Field(ge=0.0, le=600.0, description="Learn the scene this long before reporting any item.")
    ] = 3.0
    absorb_s: Annotated[
        float, Field(ge=10.0, le=86400.0, description="An item still there after this long becomes background.")
    ] = 600.0


class LitteringConfig(StrictModel):
    enabled: Annotated[bool, Field(description="Run the littering rule on this camera.")] = True
    grace_s: Annotated[
        float, Field(ge=0.0, le=600.0, description="How long the owner must be away without picking the item up.")
    ] = 5.0
    min_static_s: Annotated[float, Field(ge=0.0, le=600.0, description="How long the item must stay still.")] = 2.0
    owner_distance: Annotated[
        float,
        Field(ge=0.0, le=2.0, description="Owner near / away boundary, foot to item, in frame widths (uncalibrated)."),
    ] = 0.15
    owner_distance_m: Annotated[
        float, Field(ge=0.0, le=100.0, description="The same in metres (calibrated cameras).")
    ] = 3.0
    owner_window_s: Annotated[
        float,
        Field(
            ge=0.0,
            le=30.0,
            description="The owner is the person nearest the item within this many seconds of its appearance.",
        ),
    ] = 3.0
    min_person_confidence: Annotated[
        float, Field(ge=0.0, le=1.0, description="Person detections below this confidence are not used.")
    ] = 0.3
    follow_report_s: Annotated[
        float,
        Field(
            ge=10.0,
            le=86400.0,
            description="After a littering event the item is followed: report that it is still there this often.",
        ),
    ] = 600.0
    follow_grace_s: Annotated[
        float,
        Field(
            ge=1.0,
            le=600.0,
            description="A followed item's place must look like the ground this long, nobody hiding it, before "
            "the item counts as removed.",
        ),
    ] = 10.0
    follow_max_s: Annotated[
        float,
        Field(ge=60.0, le=604800.0, description="Stop following an item this long after its event (then: unknown)."),
    ] = 86400.0
    static: Annotated[StaticRegionConfig, Field(description="Static-region detection settings.")] = StaticRegionConfig()

    @model_validator(mode="after")
    def _areas(self) -> LitteringConfig:
        if self.static.min_item_area >= self.static.max_item_area:
            raise ValueError("static.min_item_area must be smaller than static.max_item_area")
        return self


class RulesConfig(StrictModel):
    jaywalking: JaywalkingConfig = JaywalkingConfig()
    littering: LitteringConfig = LitteringConfig()
