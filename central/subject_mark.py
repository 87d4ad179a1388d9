"""Where the person an event is about stood in each keyframe, from the track in the stored message, so that the
console and a subject's record can point at that (already pixelated) figure. The message does not say when each
keyframe was taken; the edge picks them in a known way (edge/evidence.py pick_keyframes and the rules' key
frames), so their times are worked out from the event's span. Only a position: nothing here describes the person."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from typing import Any, TypeGuard

from markupsafe import Markup

from central.tables import EvidenceLink

Point = tuple[float, float]
TimedPoint = tuple[float, float, float]
"""(seconds after the event's start, x, y), x and y normalised to the frame."""
BEYOND_TRACK_S = 0.5
"""A keyframe this far past the track's first or last point still gets the nearest end's mark (one sample
interval or so); further off the track did not see the person then, and the keyframe gets no mark."""


def is_unit(value: object) -> TypeGuard[float]:
    """A number from 0 to 1 (a position normalised to the frame)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def timed_points(payload: dict[str, Any]) -> list[TimedPoint]:
    """The track's coarse trajectory as (t, x, y); malformed points are skipped."""
    points = (payload.get("track") or {}).get("trajectory") or []
    result = []
    for point in points:
        t, x, y = ((point or {}).get(key) for key in ("t", "x", "y"))
        if isinstance(t, int | float) and not isinstance(t, bool) and t >= 0 and is_unit(x) and is_unit(y):
            result.append((float(t), float(x), float(y)))
    return sorted(result)


def keyframe_times(payload: dict[str, Any], span_s: float, count: int) -> list[float]:
    """Seconds after the event's start of each of its `count` keyframes, in the order the camera listed them. A
    littering event's three are the drop, the moment its owner went away and the end; any other's are spread
    from the start to the end (a jaywalking rule's first, middle and last sample, or the edge's even spread)."""
    away = ((payload.get("rule") or {}).get("measurements") or {}).get("owner_away_s")
    if payload.get("type") == "littering" and count == 3 and isinstance(away, int | float) and 0 <= away <= span_s:
        return [0.0, span_s - float(away), span_s]
    if count == 1:
        return [0.0]
    return [span_s * index / (count - 1) for index in range(count)]


def position_at(points: list[TimedPoint], t: float) -> Point | None:
    """The track's place at `t`, between its two nearest samples; None when the track was not seen then."""
    if not points or t < points[0][0] - BEYOND_TRACK_S or t > points[-1][0] + BEYOND_TRACK_S:
        return None
    if t <= points[0][0]:
        return (points[0][1], points[0][2])
    for (t0, x0, y0), (t1, x1, y1) in pairwise(points):
        if t <= t1:
            share = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
            return (round(x0 + (x1 - x0) * share, 4), round(y0 + (y1 - y0) * share, 4))
    return (points[-1][1], points[-1][2])


def in_listed_order(payload: dict[str, Any], links: list[EvidenceLink]) -> list[EvidenceLink]:
    """Evidence in the order the camera listed it in its message (first keyframe = the start): the order the
    keyframes' times are worked out in."""
    listed = [ref.get("sha256") for ref in payload.get("evidence") or []]
    return sorted(links, key=lambda link: listed.index(link.sha256) if link.sha256 in listed else len(listed))


def keyframe_marks(payload: dict[str, Any], started_at: datetime, ended_at: datetime, count: int) -> list[Point | None]:
    """For each of an event's `count` keyframes (in listed order), where its person's feet were, or None."""
    points = timed_points(payload)
    span = max((ended_at - started_at).total_seconds(), 0.0)
    return [position_at(points, t) for t in keyframe_times(payload, span, count)]


MARK_COLOUR = "#ff3fd2"
"""Magenta: apart from the layers drawn over the same frame (yellow track, blue zone, cyan item box)."""
_RING_AND_ARROW = (
    '<circle r="13"/><path d="M0,48 V20 M-8,29 L0,20 L8,29"/>'  # a ring round the feet, an arrow up to them
)


def mark_svg(point: Point) -> Markup:
    """The mark as an SVG to lay over the whole picture (sized by its container): a ring round the feet and an
    arrow from below, so it never covers the figure itself. Fixed pixel sizes at a point given in per cent, so
    it keeps its shape however the picture is stretched. Presentation attributes, not a style: it draws the
    same in the console (whose CSP allows no inline style) and in a subject's downloaded record."""
    x, y = point
    shapes = "".join(
        f'<g fill="none" stroke="{colour}" stroke-width="{width}" stroke-linecap="round"'
        f' stroke-linejoin="round">{_RING_AND_ARROW}</g>'
        for colour, width in (("#000", 5), (MARK_COLOUR, 2.5))
    )
    return Markup(
        '<svg class="subject-mark" role="img"'
        ' aria-label="the person this event is about">'
        "<title>the person this event is about, where the track had their feet at this moment</title>"
        f'<g class="layer layer-subject"><svg x="{x * 100:.2f}%" y="{y * 100:.2f}%" overflow="visible">'
        f"{shapes}</svg></g></svg>"
    )
