"""Jaywalking: a pedestrian in the roadway outside every crosswalk, or on a crosswalk against the signal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge.ground import GroundPlane
from edge.rules.base import RuleHit
from edge.samples import FrameSample
from models.config.rules import JaywalkingConfig
from models.config.zones import Zone

if TYPE_CHECKING:
    from edge.signal import PedestrianSignal

RULE_VERSION = "1.0"


class JaywalkingRule:
    name = "jaywalking"

    def __init__(
        self,
        zones: list[Zone],
        config: JaywalkingConfig,
        ground: GroundPlane | None = None,
        signal: PedestrianSignal | None = None,
    ) -> None:
        self.zones = zones
        self.config = config
        self.ground = ground or GroundPlane(None)
        self.signal = signal

    def update(self, sample: FrameSample) -> list[RuleHit]:
        return []

    def finish(self) -> list[RuleHit]:
        return []
