"""Littering: an item appears next to a person, stays still, and the person walks away without it.

The items come from the static-region detector (`sample.static_items`, stable ids while present). The owner
is the person whose foot was nearest the item around the time it appeared (within `owner_window_s`, at most
`owner_distance` away); items nobody was near are not littering. The event fires once the item has been
still for `min_static_s` and the owner has been farther than `owner_distance` (or out of view) for `grace_s`.
An item that disappears before that (picked up) is forgotten. Items that are really a person standing still
(the region is person-sized) or a parked bicycle or vehicle (a vehicle box covers it) never fire. The owner
keeps their role across a tracker id switch when a new track starts where they vanished, by time and place
alone.

What stands in a crowd for litter is mostly people: feet, legs and shadows of people who stand still, seen
where the detector's box does not reach. So an item is reported only while the background models see it, not
while people stand at it (within `AT_ITEM` of their height), not when people's boxes lay over it for most of
its time, and only once its owner was seen leaving (an owner lost beside it may still stand there). Pieces
of one drop near each other (one owner) are one event."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import ClassVar

from edge.boxes import Box, bottom_centre, box_area, clip_box, gap, intersection, iou
from edge.ground import GroundPlane
from edge.litter_zones import LitterZones
from edge.rules.base import RuleHit, Scalar, coarse
from edge.rules.people import VEHICLE_CLASSES, tracked_people
from edge.samples import Detection, FrameSample, StaticItem
from models.config.camera import CameraConfig
from models.config.rules import LitteringConfig
from models.config.zones import Zone, ZoneKind
from models.geometry import Point, clamp01

RULE_VERSION = "1.0"
ITEM_CLASSES = frozenset(
    {"backpack", "handbag", "suitcase", "bottle", "cup", "wine glass", "bowl", "umbrella", "book", "cell phone"}
)
HISTORY_S = 90.0
"""How far back person positions are kept: an item under its owner's legs is reported only once they step away."""
REGION_GROWTH_S = 2.0
"""A vanished item's region may come back reshaped this soon and still be the same item."""
NOT_INHERITED = frozenset({"reported", "person standing still", "outside litter_watch", "nobody near it"})
"""A person-sized region may contain the bag they put down; a reported item is handled by SAME_ITEM_OVERLAP."""
PERSON_SHAPED_IOU = 0.4
PERSON_SIZED = 0.6
VEHICLE_COVER = 0.4
SAME_DROP = 0.03
"""Items of one owner this close to a reported one (frame widths or heights apart) belong to its event."""
SEEN_RECENTLY_S = 0.5
"""An item is reported only while the background models see it, not while they merely keep it."""
AT_ITEM = 0.3
"""A person whose box comes this close to an item, in heights of that person, is standing at it: near enough
for the region to be their feet or their shadow."""
UNDER_PERSON = 0.3
"""A person's box over this share of an item hides it: it may be their legs or their shadow, not a thing."""
SAME_ITEM_OVERLAP = 0.5
"""A new region covering half of a reported item (or half covered by it) is that item seen again."""


def _overlap(a: Box, b: Box) -> float:
    smaller = min(box_area(a), box_area(b))
    return intersection(a, b) / smaller if smaller > 0 else 0.0


@dataclass
class _Candidate:
    item: StaticItem
    zone: str
    first_seen_t: float
    """When the item appeared: the detector's time, or an earlier one when its region grew out of another's."""
    owner_ids: list[int] = field(default_factory=list)
    owner_distance_at_drop: float | None = None
    away_since: float | None = None
    away_index: int | None = None
    label: str | None = None
    label_confidence: float = 0.0
    settled: bool = False
    """Fired, or ruled out for good (nobody near it, a vehicle, a person standing still)."""
    why: str = ""
    covered_s: float = 0.0
    """Of the time since the item appeared, how long a person's box lay over it."""
    accounted_t: float | None = None
    """The sample time up to which `covered_s` is counted."""


class LitteringRule:
    name: ClassVar[str] = "littering"
    needs_zone: ClassVar[ZoneKind] = "litter_watch"

    @staticmethod
    def enabled(config: CameraConfig) -> bool:
        return config.rules.littering.enabled

    @staticmethod
    def inputs(config: CameraConfig) -> tuple[object, ...]:
        return (config.zones, config.rules.littering, config.calibration)

    @classmethod
    def build(cls, config: CameraConfig) -> LitteringRule:
        return cls(config.zones, config.rules.littering, GroundPlane(config.calibration))

    def __init__(self, zones: list[Zone], config: LitteringConfig, ground: GroundPlane | None = None) -> None:
        self.config = config
        self.ground = ground or GroundPlane(None)
        self.zones = LitterZones(zones)
        self._owner_distance = config.owner_distance_m if self.ground.metric else config.owner_distance
        self._paths: dict[int, deque[tuple[float, Point]]] = {}
        self._heights: dict[int, float] = {}
        """Each track's last box height: litter is much shorter than the person who dropped it."""
        self._indices: deque[tuple[float, int]] = deque()
        self._vehicles: deque[tuple[float, Box]] = deque()
        self._candidates: dict[int, _Candidate] = {}
        self._fired: deque[tuple[float, Box, frozenset[int]]] = deque()
        """Reported items: when, where, and their owners' track ids."""
        self._gone: deque[tuple[float, _Candidate]] = deque()
        self.cancelled = 0
        """Items that went away (picked up) before the grace time ran out."""

    def update(self, sample: FrameSample) -> list[RuleHit]:
        if not sample.detected:
            return []
        self.ground.with_frame_size(sample.width, sample.height)
        people = tracked_people(sample.detections, self.config.min_person_confidence)
        self._remember(sample, people)
        present = {item.item_id: item for item in sample.static_items}
        for item_id in [i for i in self._candidates if i not in present]:
            gone = self._candidates.pop(item_id)
            self._gone.append((sample.t, gone))
            if not gone.settled and gone.owner_ids:
                self.cancelled += 1
        hits: list[RuleHit] = []
        for item in present.values():
            candidate = self._candidates.get(item.item_id)
            if candidate is None:
                candidate = self._candidates[item.item_id] = self._new_candidate(item, sample)
            candidate.item = item
            if candidate.settled:
                continue
            self._inherit(candidate, sample.t)
            self._account_cover(candidate, sample)
            self._check(candidate, sample, people)
            hit = None if candidate.settled else self._judge(candidate, sample, people)
            if hit is not None:
                hits.append(hit)
        return hits

    def finish(self) -> list[RuleHit]:
        """An owner still within the grace time at the end of the stream has not (yet) left the item."""
        self._candidates.clear()
        return []

    # -- memory --------------------------------------------------------------------------------------------

    def _remember(self, sample: FrameSample, people: list[Detection]) -> None:
        t = sample.t
        self._indices.append((t, sample.index))
        for person in people:
            assert person.track_id is not None
            self._paths.setdefault(person.track_id, deque()).append((t, person.foot))
            self._heights[person.track_id] = person.box[3] - person.box[1]
        for d in sample.detections:
            if d.cls in VEHICLE_CLASSES:
                self._vehicles.append((t, d.box))
        horizon = t - HISTORY_S
        while self._gone and self._gone[0][0] < t - REGION_GROWTH_S:
            self._gone.popleft()
        for queue in (self._indices, self._vehicles, self._fired):
            while queue and queue[0][0] < horizon:
                queue.popleft()
        for track_id in [k for k, path in self._paths.items() if path[-1][0] < horizon]:
            del self._paths[track_id]
            self._heights.pop(track_id, None)

    def _index_at(self, t: float) -> int:
        best = min(self._indices, key=lambda pair: abs(pair[0] - t), default=(t, 0))
        return best[1]

    def _distance(self, foot: Point, item: StaticItem) -> float:
        return self.ground.distance(foot, bottom_centre(item.box))

    # -- one item ------------------------------------------------------------------------------------------

    def _new_candidate(self, item: StaticItem, sample: FrameSample) -> _Candidate:
        zone = self.zones.zone_of(item.box)
        candidate = _Candidate(item=item, zone=zone or "", first_seen_t=item.first_seen_t)
        if zone is None:
            candidate.settled, candidate.why = True, "outside litter_watch"
            return candidate
        if any(_overlap(item.box, box) >= SAME_ITEM_OVERLAP for _, box, _owners in self._fired):
            candidate.settled, candidate.why = True, "already reported"
            return candidate
        if any(t >= candidate.first_seen_t - 1.0 and self._vehicle_covers(box, item) for t, box in self._vehicles):
            candidate.settled, candidate.why = True, "vehicle"
        return candidate

    def _inherit(self, candidate: _Candidate, now: float) -> None:
        """A region that grew out of another item's (the owner stepped off part of it, a bag was opened) is
        that item: it keeps the earlier appearance time, the owner and any reason it was ruled out."""
        related = [c for c in self._candidates.values() if c.item.item_id != candidate.item.item_id]
        related += [c for t, c in self._gone if now - t <= REGION_GROWTH_S]
        for other in related:
            if other.why in NOT_INHERITED or _overlap(candidate.item.box, other.item.box) < SAME_ITEM_OVERLAP:
                continue
            if other.why == "vehicle":
                candidate.settled, candidate.why = True, other.why
            elif other.first_seen_t < candidate.first_seen_t and other.owner_ids:
                candidate.first_seen_t = other.first_seen_t
                candidate.owner_ids = list(other.owner_ids)
                candidate.owner_distance_at_drop = other.owner_distance_at_drop

    def _account_cover(self, candidate: _Candidate, sample: FrameSample) -> None:
        item = candidate.item
        area = box_area(item.box)
        covered = area > 0 and any(
            d.cls == "person" and intersection(d.box, item.box) / area >= UNDER_PERSON for d in sample.detections
        )
        if covered and candidate.accounted_t is not None:
            candidate.covered_s += max(0.0, sample.t - candidate.accounted_t)
        candidate.accounted_t = sample.t

    def _vehicle_covers(self, vehicle: Box, item: StaticItem) -> bool:
        area = box_area(item.box)
        return area > 0 and intersection(vehicle, item.box) / area >= VEHICLE_COVER

    def _check(self, candidate: _Candidate, sample: FrameSample, people: list[Detection]) -> None:
        """Rule the item out for good, note detector classes that overlap it, and find its owner."""
        item = candidate.item
        for d in sample.detections:
            if d.cls in VEHICLE_CLASSES and self._vehicle_covers(d.box, item):
                candidate.settled, candidate.why = True, "vehicle"
                return
            if d.cls == "person" and iou(d.box, item.box) >= PERSON_SHAPED_IOU:
                candidate.settled, candidate.why = True, "person standing still"
                return
            overlaps = intersection(d.box, item.box) >= 0.3 * min(box_area(d.box), box_area(item.box))
            if d.cls in ITEM_CLASSES and overlaps and d.confidence > candidate.label_confidence:
                candidate.label, candidate.label_confidence = d.cls, d.confidence
        if not candidate.owner_ids:
            self._find_owner(candidate, sample.t)

    def _find_owner(self, candidate: _Candidate, now: float) -> None:
        item, window = candidate.item, self.config.owner_window_s
        best: tuple[float, int] | None = None
        for track_id, path in self._paths.items():
            for t, foot in path:
                if abs(t - candidate.first_seen_t) <= window:
                    d = self._distance(foot, item)
                    if d <= self._owner_distance and (best is None or d < best[0]):
                        best = (d, track_id)
        if best is not None:
            candidate.owner_ids.append(best[1])
            candidate.owner_distance_at_drop = best[0]
            height = self._heights.get(best[1], 0.0)
            if height > 0 and item.box[3] - item.box[1] >= PERSON_SIZED * height:
                # as tall as a person: a person the detector lost while they stood still, not litter
                candidate.settled, candidate.why = True, "person standing still"
        elif now > candidate.first_seen_t + window:
            candidate.settled, candidate.why = True, "nobody near it"

    def _follow_owner(self, candidate: _Candidate, people: list[Detection]) -> Detection | None:
        """The owner in this sample. Across a tracker id switch the owner is a track that started within
        `owner_window_s` after they vanished, where they vanished or (when they vanished beside the item)
        beside the item: time and place alone, no appearance."""
        by_id = {p.track_id: p for p in people}
        owner_id = candidate.owner_ids[-1]
        if owner_id in by_id:
            return by_id[owner_id]
        path = self._paths.get(owner_id)
        if not path:
            return None
        last_t, last_foot = path[-1]
        vanished_beside = self._distance(last_foot, candidate.item) <= self._owner_distance
        for track_id, other in self._paths.items():
            if track_id in candidate.owner_ids or track_id not in by_id:
                continue
            first_t, first_foot = other[0]
            if not 0.0 < first_t - last_t <= self.config.owner_window_s:
                continue
            near_owner = self.ground.distance(first_foot, last_foot) <= self._owner_distance / 2.0
            near_item = vanished_beside and self._distance(first_foot, candidate.item) <= self._owner_distance
            if near_owner or near_item:
                candidate.owner_ids.append(track_id)
                return by_id[track_id]
        return None

    def _judge(self, candidate: _Candidate, sample: FrameSample, people: list[Detection]) -> RuleHit | None:
        if not candidate.owner_ids:
            return None
        owner = self._follow_owner(candidate, people)
        distance = self._distance(owner.foot, candidate.item) if owner is not None else None
        path = self._paths.get(candidate.owner_ids[-1])
        # Lost beside the item, never seen leaving: in a crowd or behind a post the owner may well stand there
        # still, and what looks left behind may be their feet or shadow. Seen leaving, or never.
        lost_beside = (
            owner is None
            and path is not None
            and len(path) > 0
            and self._distance(path[-1][1], candidate.item) <= self._owner_distance
        )
        if lost_beside or (distance is not None and distance <= self._owner_distance):
            candidate.away_since = candidate.away_index = None
            return None
        if candidate.away_since is None:
            gone_at = sample.t if owner is not None or not path else path[-1][0]
            candidate.away_since = max(gone_at, candidate.first_seen_t)
            candidate.away_index = self._index_at(candidate.away_since)
        item = candidate.item
        away_s = sample.t - candidate.away_since
        static_s = sample.t - candidate.first_seen_t
        if away_s < self.config.grace_s or static_s < self.config.min_static_s:
            return None
        if candidate.covered_s > static_s / 2.0:
            # People stood over it for most of the time it was there: more likely their legs than their litter.
            return None
        if item.last_seen_t is not None and sample.t - item.last_seen_t > SEEN_RECENTLY_S:
            # Kept only because something hides it, or about to be forgotten: report what is seen, when it is.
            return None
        if any(
            d.cls == "person" and gap(d.box, item.box) <= AT_ITEM * (d.box[3] - d.box[1]) for d in sample.detections
        ):
            # Someone stands at it: what looks like a thing left behind may be their feet or their shadow, and if
            # it is a thing, it is not left alone. The owner's grace time has passed; judge once nobody is there.
            return None
        owners = frozenset(candidate.owner_ids)
        candidate.settled, candidate.why = True, "reported"
        if any(owners & others and gap(box, item.box) <= SAME_DROP for _, box, others in self._fired):
            # Pieces of one drop (a bag and what spilled from it, a region split in two): one event.
            return None
        self._fired.append((sample.t, item.box, owners))
        return self._hit(candidate, sample, distance, away_s, static_s)

    def _hit(
        self, candidate: _Candidate, sample: FrameSample, distance: float | None, away_s: float, static_s: float
    ) -> RuleHit:
        cfg, item = self.config, candidate.item
        t_start = candidate.first_seen_t
        path = [
            (round(t - t_start, 3), clamp01(x), clamp01(y))
            for track_id in candidate.owner_ids
            for t, (x, y) in self._paths.get(track_id, ())
            if t_start <= t <= sample.t
        ]
        drop_index = self._index_at(t_start)
        away_index = candidate.away_index if candidate.away_index is not None else drop_index
        closeness = 1.0 - (candidate.owner_distance_at_drop or 0.0) / max(self._owner_distance, 1e-9)
        confidence = 0.5 + (0.25 if candidate.label else 0.0) + 0.15 * clamp01(closeness)
        confidence += 0.1 * clamp01(away_s / max(2.0 * cfg.grace_s, 1e-9))
        unit = self.ground.unit
        thresholds: dict[str, Scalar] = {
            "grace_s": cfg.grace_s,
            "min_static_s": cfg.min_static_s,
            "owner_distance": self._owner_distance,
            "owner_window_s": cfg.owner_window_s,
            "unit": unit,
        }
        measurements: dict[str, Scalar] = {
            "static_s": round(static_s, 3),
            "owner_away_s": round(away_s, 3),
            "owner_distance_at_drop": _rounded(candidate.owner_distance_at_drop),
            "owner_distance_now": _rounded(distance),
            "owner_visible": distance is not None,
            "owner_track_ids": ",".join(str(t) for t in candidate.owner_ids),
            "item_x": round((item.box[0] + item.box[2]) / 2.0, 4),
            "item_y": round(item.box[3], 4),
            "item_area": round(item.area, 5),
            "item_covered_s": round(candidate.covered_s, 3),
            "item_label": candidate.label,
            "item_label_confidence": round(candidate.label_confidence, 3) if candidate.label else None,
            "unit": unit,
        }
        return RuleHit(
            type="littering",
            track_id=candidate.owner_ids[0],
            zone=candidate.zone,
            frame_start=min(drop_index, sample.index),
            frame_end=sample.index,
            t_start=min(t_start, sample.t),
            t_end=sample.t,
            confidence=clamp01(confidence),
            trajectory=coarse(path),
            thresholds=thresholds,
            measurements=measurements,
            rule_version=RULE_VERSION,
            item_box=clip_box(item.box),
            item_id=item.item_id,
            key_frames=tuple(dict.fromkeys((min(drop_index, sample.index), away_index, sample.index))),
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
