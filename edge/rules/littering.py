"""Littering: an item appears next to a person, stays still, and the person walks away without it."""

from __future__ import annotations

from edge.ground import GroundPlane
from edge.rules.base import RuleHit
from edge.samples import FrameSample
from models.config.rules import LitteringConfig
from models.config.zones import Zone

RULE_VERSION = "1.0"


class LitteringRule:
    name = "littering"

    def __init__(self, zones: list[Zone], config: LitteringConfig, ground: GroundPlane | None = None) -> None:
        self.zones = zones
        self.config = config
        self.ground = ground or GroundPlane(None)

    def update(self, sample: FrameSample) -> list[RuleHit]:
        return []

    def finish(self) -> list[RuleHit]:
        return []
