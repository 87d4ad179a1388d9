"""Where a dropped item counts: one test for the background models (which regions to follow) and the
littering rule (which items to judge), so the two never disagree about an item at a zone's edge."""

from __future__ import annotations

from collections.abc import Iterable

from edge.boxes import Box, bottom_centre
from models.config.zones import Zone
from models.geometry import point_in_polygon


class LitterZones:
    def __init__(self, zones: Iterable[Zone]) -> None:
        zones = list(zones)
        self.watch = [z for z in zones if z.kind == "litter_watch"]
        self.ignore = [z for z in zones if z.kind == "ignore"]

    def zone_of(self, box: Box) -> str | None:
        """The `litter_watch` zone an item in `box` lies in, judged where it meets the ground; None outside every
        watch zone or inside an `ignore` zone (which wins where the two overlap)."""
        point = bottom_centre(box)
        if any(point_in_polygon(point, z.polygon) for z in self.ignore):
            return None
        return next((z.name for z in self.watch if point_in_polygon(point, z.polygon)), None)
