"""Zone set-ups that make a rule silently useless. The pipeline says them once at start; the console's zone
editor shows them while a camera file is drawn, so this is part of the small edge interface it may import."""

from __future__ import annotations

from edge.rules import RULES
from models.config.camera import CameraConfig
from models.geometry import polygon_area

MIN_ZONE_AREA = 0.001
"""A zone smaller than this share of the frame covers (almost) nothing."""


def zone_warnings(config: CameraConfig) -> list[str]:
    """Said once at start, not an error."""
    warnings = [
        f"zone {zone.name!r} covers {polygon_area(zone.polygon):.4%} of the frame: it will catch (almost) nothing"
        for zone in config.zones
        if polygon_area(zone.polygon) < MIN_ZONE_AREA
    ]
    kinds = {zone.kind for zone in config.zones if polygon_area(zone.polygon) >= MIN_ZONE_AREA}
    warnings += [
        f"{rule.name} is enabled but no {rule.needs_zone} zone covers any of the frame: it cannot fire"
        for rule in RULES
        if rule.enabled(config) and rule.needs_zone not in kinds
    ]
    return warnings
