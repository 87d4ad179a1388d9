"""Where the detector looks (issue 22): only the part of the frame the rules' zones can use, and between two
looks at all of it, only around the people it is following and what moves.

The detector costs the same at every pixel it is given, and most of a street camera's picture can hold no one a
rule cares about: the sky, facades, the far pavement. The *window* is the box around the rule zones, grown upwards
by a tall person's height (a person whose feet stand on the zone's far edge is seen whole) and a little on the
other sides. A *region* is the part of the window around the people and ridden vehicles of the last detection,
grown by how far they can move before the next, and around what moved since; it is detected at the same pixel
scale as the window, so a person is as many model pixels tall in either and the detector finds the same people.

Pure geometry on normalised boxes (x1, y1, x2, y2 in 0..1 of the frame), so it is tested without video."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from edge.samples import Box
from models.config.zones import Zone

FULL_WINDOW: Box = (0.0, 0.0, 1.0, 1.0)
FULL_SHARE = 0.6
"""A region this large a share of the window is looked at whole: the saving is small, and a whole look finds
whoever the regions would have missed."""
WINDOW_UP = 0.25
"""Frame heights added above the zones' top: a person standing on a zone's far edge, head and all, at the
heights people have in the shared clips' frames (up to a fifth of the frame where a zone's far edge is)."""
WINDOW_MARGIN = 0.04
"""Frame heights (and widths) added on the other sides: feet at a zone's edge, a bag swung beside the body."""
NOT_LOOKED_FOR = ("privacy", "ignore")
"""Zone kinds that ask for nothing to be detected: they only hide or quieten parts of the picture."""
REACH_BH = 0.3
"""Body heights added on every side of a tracked box, however short the time: a box is tight, and a detection a
little larger than the last must still lie wholly inside the region."""
RIDE_BH_PER_S = 3.0
"""Body heights a second the region allows anyone to move: a cyclist's pace, so riders stay inside it too."""
BLOB_GROWTH = 1.0
"""A moving blob grown by its own size on every side: a blob is often only the part of someone that moved (legs,
an arm), and the detector needs the whole person."""
BLOB_MIN = 0.03
"""Least growth of a blob, in frame heights: a blob of a few pixels is a far walker whose body is larger."""
STEP = 32
"""Model inputs are multiples of the detection head's coarsest stride."""
LADDER = (64, 96, 128, 160, 192, 256, 320, 384, 448, 512, 576, 640)
"""The sides a region's input takes, each at most a third more than the one before: every new shape is a model
to refit and load (70-250 ms), so regions keep to a few shapes, at the price of some grey padding."""


def window_of(zones: Iterable[Zone]) -> Box:
    """The part of the frame the rule zones can use; the whole frame when no zone asks for detection."""
    points = [point for zone in zones if zone.kind not in NOT_LOOKED_FOR for point in zone.polygon]
    if not points:
        return FULL_WINDOW
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return (
        max(0.0, min(xs) - WINDOW_MARGIN),
        max(0.0, min(ys) - WINDOW_UP),
        min(1.0, max(xs) + WINDOW_MARGIN),
        min(1.0, max(ys) + WINDOW_MARGIN),
    )


def around(box: Box, elapsed: float, aspect: float) -> Box:
    """Where the person (or ridden vehicle) of `box` can be after `elapsed` seconds, whole. `aspect` is the frame's
    height over its width, so the growth is the same number of body heights across as down."""
    height = box[3] - box[1]
    grow_y = height * (REACH_BH + RIDE_BH_PER_S * max(0.0, elapsed))
    grow_x = grow_y * aspect
    return (box[0] - grow_x, box[1] - grow_y, box[2] + grow_x, box[3] + grow_y)


def blob_area(blob: Box, aspect: float) -> Box:
    """A moving blob grown to hold the whole of whoever moved."""
    grow_y = max(BLOB_MIN, (blob[3] - blob[1]) * BLOB_GROWTH)
    grow_x = max(BLOB_MIN * aspect, (blob[2] - blob[0]) * BLOB_GROWTH)
    return (blob[0] - grow_x, blob[1] - grow_y, blob[2] + grow_x, blob[3] + grow_y)


def union(boxes: Sequence[Box]) -> Box | None:
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def clip(box: Box, within: Box) -> Box | None:
    """`box` cut to `within`; None when nothing is left."""
    x1, y1 = max(box[0], within[0]), max(box[1], within[1])
    x2, y2 = min(box[2], within[2]), min(box[3], within[3])
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def region(wanted: Sequence[Box], window: Box) -> Box | None:
    """The one part of the window that holds everything wanted (people's reach, moving blobs); None when nothing
    wanted lies in the window."""
    inside = [cut for box in wanted if (cut := clip(box, window)) is not None]
    return union(inside)


def model_input(width_px: float, height_px: float, scale: float, ladder: bool = False) -> tuple[int, int]:
    """The model input (height, width) that holds `width_px` x `height_px` frame pixels at `scale` model pixels per
    frame pixel: each side rounded up to a multiple of STEP, or with `ladder` to the next side of LADDER."""

    def side(pixels: float) -> int:
        exact = max(STEP, math.ceil(pixels * scale / STEP) * STEP)
        return next((step for step in LADDER if step >= exact), exact) if ladder else exact

    return side(height_px), side(width_px)


def placed(look: Box, size: tuple[int, int], scale: float, frame: tuple[int, int]) -> tuple[int, int, int, int]:
    """Pixel rectangle (x1, y1, x2, y2) of the frame (width, height) that a model input of `size` (height, width)
    holds at `scale` model pixels per frame pixel, centred on `look` and moved inside the frame; cut to the frame
    where it is larger."""
    width, height = frame
    w, h = min(size[1] / scale, width), min(size[0] / scale, height)
    centre_x, centre_y = (look[0] + look[2]) / 2 * width, (look[1] + look[3]) / 2 * height
    left = round(min(max(0.0, centre_x - w / 2), width - w))
    top = round(min(max(0.0, centre_y - h / 2), height - h))
    return left, top, min(width, left + round(w)), min(height, top + round(h))
