"""Who counts as a pedestrian, and where they stand: shared by the rules."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from edge.samples import Box, Detection

RIDDEN_CLASSES = frozenset({"bicycle", "motorcycle"})
CARRIER_CLASSES = frozenset({"car", "bus", "truck", "train"})
VEHICLE_CLASSES = frozenset({"bicycle", "motorcycle", "car", "bus", "truck", "train"})


def box_area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def intersection(a: Box, b: Box) -> float:
    return box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def is_riding(person: Detection, vehicles: Iterable[Detection]) -> bool:
    """A rider's box overlaps a bicycle's or motorcycle's, with the feet on or just below the vehicle."""
    fx, fy = person.foot
    for vehicle in vehicles:
        if vehicle.cls not in RIDDEN_CLASSES:
            continue
        overlap = intersection(person.box, vehicle.box)
        smaller = min(box_area(person.box), box_area(vehicle.box))
        if smaller <= 0.0 or overlap / smaller < 0.3:
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
