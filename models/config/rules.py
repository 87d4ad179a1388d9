"""Rule switches and thresholds. Times are seconds and distances normalised to the frame
unless calibration gives metres."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from models.base import StrictModel


class JaywalkingConfig(StrictModel):
    enabled: Annotated[bool, Field(description="Watch for pedestrians crossing the roadway outside crosswalks.")] = True
    min_duration_s: Annotated[float, Field(ge=0.0, le=60.0, description="Time in the roadway before it counts.")] = 1.0
    min_distance: Annotated[
        float,
        Field(
            ge=0.0,
            le=100.0,
            description="Or distance covered in the roadway (metres when calibrated, else frame units).",
        ),
    ] = 0.15
    exit_grace_s: Annotated[
        float, Field(ge=0.0, le=30.0, description="Time outside the roadway before a crossing ends.")
    ] = 1.0


class LitteringConfig(StrictModel):
    enabled: Annotated[bool, Field(description="Watch litter_watch zones for items left behind.")] = True
    grace_s: Annotated[float, Field(ge=0.0, le=600.0, description="How long the owner must be gone.")] = 5.0
    min_static_s: Annotated[float, Field(ge=0.0, le=600.0, description="How long the item must stay still.")] = 2.0
    owner_distance: Annotated[
        float,
        Field(
            ge=0.0,
            le=100.0,
            description="Distance the owner must move away (metres when calibrated, else frame units).",
        ),
    ] = 0.15


class RulesConfig(StrictModel):
    jaywalking: JaywalkingConfig = JaywalkingConfig()
    littering: LitteringConfig = LitteringConfig()
