"""Where the detector looks (issue 22): only the part of the frame the rules' zones can use, and between two
looks at all of it, only around the people it is following and what moves.

The detector costs the same at every pixel it is given, and most of a street camera's picture can hold no one a
rule cares about: the sky, facades, the far pavement. The *window* is the box around the rule zones, grown upwards
by a tall person's height (a person whose feet stand on the zone's far edge is seen whole) and a little on the
other sides; it is detected at the pixel scale the whole frame would have had, so a person is as many model pixels
tall as without it. A *region* is a square of the window around the people and ridden vehicles of the last
detection, grown by how far they can move before the next, and around what moved since; every region runs at one
small input (REGION_INPUT), a larger square scaled down to it.

Pure geometry on boxes, normalised or in pixels, so it is tested without video."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

from edge.boxes import Box, box_area
from models.config.detector import DetectorConfig
from models.config.zones import Zone

Pixels = tuple[int, int, int, int]
"""A rectangle of the frame in pixels: x1, y1, x2, y2."""

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
MOST_PARTS = 3
"""Parts looked at in one run, at most: each is a model run of its own."""
REGION_INPUT = 320
"""Model pixels across a region's square input: a tenth of the cost of the window of a 4:3 camera at 640, and
large enough for a walker's reach at the detection rate. Every region runs at this one input (each input shape is
a model to rewrite and load, 0.2-0.4 s and about 30 MB), so a region larger than it is scaled down to it: the
people in it are large anyway."""
STEP = 32
"""Model inputs are multiples of the detection head's coarsest stride."""


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


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def clip(box: Box, within: Box) -> Box | None:
    """`box` cut to `within`; None when nothing is left."""
    x1, y1 = max(box[0], within[0]), max(box[1], within[1])
    x2, y2 = min(box[2], within[2]), min(box[3], within[3])
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def regions(wanted: Sequence[Box], window: Box, frame: tuple[int, int], side: float) -> list[Pixels]:
    """Squares of the frame (pixels: x1, y1, x2, y2) that hold everything wanted (people's reach, moving blobs)
    inside the window, each at least `side` pixels across and larger where what it holds is, at most MOST_PARTS
    of them: wanted boxes go into the first square they fit in with the others, and while too many are left the
    two that make the smallest square together are merged. None wanted in the window: no squares."""
    width, height = frame
    boxes = [
        (cut[0] * width, cut[1] * height, cut[2] * width, cut[3] * height)
        for box in wanted
        if (cut := clip(box, window)) is not None
    ]
    groups: list[Box] = []
    for box in sorted(boxes):
        fits = next((i for i, group in enumerate(groups) if _side(_union(group, box)) <= side), None)
        if fits is None:
            groups.append(box)
        else:
            groups[fits] = _union(groups[fits], box)
    while len(groups) > MOST_PARTS:
        _, i, j = min((_side(_union(a, b)), i, j) for (i, a), (j, b) in itertools.combinations(enumerate(groups), 2))
        groups = [group for k, group in enumerate(groups) if k not in (i, j)] + [_union(groups[i], groups[j])]
    return [_centred(group, max(side, _side(group)), max(side, _side(group)), frame) for group in groups]


def _side(box: Box) -> float:
    return max(box[2] - box[0], box[3] - box[1])


def _centred(box: Box, w: float, h: float, frame: tuple[int, int]) -> Pixels:
    """A `w` x `h` rectangle of pixels centred on `box` (pixels), moved inside the frame (width, height) and cut to
    it where the frame is smaller."""
    width, height = frame
    w, h = min(w, width), min(h, height)
    left = round(min(max(0.0, (box[0] + box[2] - w) / 2), width - w))
    top = round(min(max(0.0, (box[1] + box[3] - h) / 2), height - h))
    return left, top, min(width, left + round(w)), min(height, top + round(h))


def model_input(width_px: float, height_px: float, scale: float) -> tuple[int, int]:
    """The model input (height, width) that holds `width_px` x `height_px` frame pixels at `scale` model pixels per
    frame pixel: each side rounded up to a multiple of STEP."""
    return (
        max(STEP, math.ceil(height_px * scale / STEP) * STEP),
        max(STEP, math.ceil(width_px * scale / STEP) * STEP),
    )


def placed(look: Box, size: tuple[int, int], scale: float, frame: tuple[int, int]) -> Pixels:
    """Pixel rectangle (x1, y1, x2, y2) of the frame (width, height) that a model input of `size` (height, width)
    holds at `scale` model pixels per frame pixel, centred on `look` (normalised) and moved inside the frame; cut to
    the frame where it is larger."""
    width, height = frame
    in_pixels = (look[0] * width, look[1] * height, look[2] * width, look[3] * height)
    return _centred(in_pixels, size[1] / scale, size[0] / scale, frame)


def describe(zones: Iterable[Zone], detector: DetectorConfig) -> str:
    """Where a camera's detector looks, in a sentence (`curbwatch check-config`)."""
    if not detector.regions:
        return "detector.regions off: the detector looks at the whole frame on every detection"
    x1, y1, x2, y2 = window_of(zones)
    return (
        f"detector.regions on: the detector looks at x {x1:.2f}-{x2:.2f}, y {y1:.2f}-{y2:.2f} of the frame "
        f"({box_area((x1, y1, x2, y2)):.0%}, the zones grown by a person's height above them), all of it "
        f"{detector.full_fps:g} times a second and in between only around the people it follows and what moves; "
        "the rest of the frame is pixelated in evidence (.tflite YOLO exports; other models look at whole frames)"
    )
