"""Who counts as a pedestrian, and where they stand: shared by the rules."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from edge.boxes import box_area, intersection
from edge.samples import Detection
from models.geometry import Point

RIDDEN_CLASSES = frozenset({"bicycle", "motorcycle"})
CARRIER_CLASSES = frozenset({"car", "bus", "truck", "train"})
VEHICLE_CLASSES = frozenset({"bicycle", "motorcycle", "car", "bus", "truck", "train"})
RIDER_OVERLAP = 0.3
"""Share of the smaller of (lower half of the person's box, vehicle box) that the two must have in common."""
WALK_BH_PER_S = 1.5
"""Fastest a pedestrian's feet move, in their own body heights a second (a brisk walk or a jog: about 2.5 m/s for
1.7 m). Feet that moved further than this (plus JITTER_BH) in the time are someone else's: crossings are split
there, never joined."""
RIDE_BH_PER_S = 3.0
"""The same for someone on a bicycle (about 5 m/s), and for a track no one has judged yet (the tracker's gate):
a rider split into pieces would lose the bicycle seen under them and be reported as a walker."""
JITTER_BH = 0.3
"""Body heights a box's foot point may move between two detections without any walking (box jitter, a person
half hidden behind another)."""


Heights = TypeVar("Heights", float, npt.NDArray[np.float32])


def reach(height: Heights, elapsed: Heights, speed: float) -> Heights:
    """How far (in the units of `height`, a person's box height) their feet can get in `elapsed` (>= 0) seconds
    at `speed` body heights a second; for one person, or for arrays of heights and times (the tracker's gate)."""
    return height * (JITTER_BH + speed * elapsed)


def within_reach(a: Point, b: Point, height: float, elapsed: float, aspect: float, speed: float) -> bool:
    """Whether feet at `a` can be at `b` `elapsed` seconds later: points normalised to the frame, `height` the
    person's box height normalised to the frame's height, `aspect` the frame's height over its width."""
    return math.hypot((b[0] - a[0]) / aspect, b[1] - a[1]) <= reach(height, elapsed, speed)


def is_riding(person: Detection, vehicles: Iterable[Detection]) -> bool:
    """A rider sits on a bicycle or motorcycle: the vehicle lies across the lower half of the person's box and the
    feet are at the vehicle's height. The lower half, not the whole box, because detectors end a rider's box at
    the saddle, at the pedals or at the ground, and a box that stops at the saddle shares little of its area with
    the bicycle below it."""
    x1, y1, x2, y2 = person.box
    lower = (x1, (y1 + y2) / 2.0, x2, y2)
    fx, fy = person.foot
    for vehicle in vehicles:
        if vehicle.cls not in RIDDEN_CLASSES:
            continue
        smaller = min(box_area(lower), box_area(vehicle.box))
        if smaller <= 0.0 or intersection(lower, vehicle.box) / smaller < RIDER_OVERLAP:
            continue
        vx1, vy1, vx2, vy2 = vehicle.box
        vw, vh = vx2 - vx1, vy2 - vy1
        if vx1 - 0.25 * vw <= fx <= vx2 + 0.25 * vw and vy1 <= fy <= vy2 + 0.3 * vh:
            return True
    return False


def is_occupant(person: Detection, vehicles: Iterable[Detection]) -> bool:
    """A driver or passenger seen through the windows: the person's box lies within a car's, bus's or
    truck's, with the feet well above the vehicle's bottom edge (a pedestrian in front of it stands lower)."""
    area = box_area(person.box)
    for vehicle in vehicles:
        if vehicle.cls not in CARRIER_CLASSES or area <= 0.0:
            continue
        vy1, vy2 = vehicle.box[1], vehicle.box[3]
        if intersection(person.box, vehicle.box) / area >= 0.8 and person.foot[1] < vy2 - 0.15 * (vy2 - vy1):
            return True
    return False


def tracked_people(detections: Sequence[Detection], min_confidence: float) -> list[Detection]:
    return [d for d in detections if d.cls == "person" and d.track_id is not None and d.confidence >= min_confidence]
