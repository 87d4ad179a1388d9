"""Arithmetic on normalised boxes (x1, y1, x2, y2): one home for what the detector, the redactor, the
background models and the rules all measure."""

from __future__ import annotations

from models.geometry import Point, clamp01

Box = tuple[float, float, float, float]
"""x1, y1, x2, y2, normalised to the frame."""


def box_area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def intersection(a: Box, b: Box) -> float:
    return box_area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))


def gap(a: Box, b: Box) -> float:
    """How far apart two boxes are, in the larger of the two axes (0 when they touch or overlap)."""
    return max(0.0, b[0] - a[2], a[0] - b[2], b[1] - a[3], a[1] - b[3])


def bottom_centre(box: Box) -> Point:
    """Where a person stands, or where an item lies on the ground (DESIGN.md section 3)."""
    return ((box[0] + box[2]) / 2.0, box[3])


def clip_box(box: Box) -> Box:
    """The part of the frame a box may claim: corners carried through a homography can land outside."""
    return (clamp01(box[0]), clamp01(box[1]), clamp01(box[2]), clamp01(box[3]))


def iou(a: Box, b: Box) -> float:
    inter = intersection(a, b)
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0
