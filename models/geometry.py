"""Plane geometry on normalised points, shared by config validation and the rules."""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]


def clamp01(value: float) -> float:
    """Into the frame: normalised coordinates (and scores) outside 0..1 come from boxes that reach past an edge."""
    return max(0.0, min(1.0, value))


def _orientation(a: Point, b: Point, c: Point) -> float:
    return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])


def _on_segment(a: Point, b: Point, p: Point) -> bool:
    return min(a[0], b[0]) <= p[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= p[1] <= max(a[1], b[1])


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    """True when segment ab touches segment cd, collinear overlaps included."""
    o1, o2 = _orientation(a, b, c), _orientation(a, b, d)
    o3, o4 = _orientation(c, d, a), _orientation(c, d, b)
    if ((o1 > 0) != (o2 > 0)) and ((o3 > 0) != (o4 > 0)) and o1 and o2 and o3 and o4:
        return True
    return (
        (o1 == 0 and _on_segment(a, b, c))
        or (o2 == 0 and _on_segment(a, b, d))
        or (o3 == 0 and _on_segment(c, d, a))
        or (o4 == 0 and _on_segment(c, d, b))
    )


def polygon_area(polygon: Sequence[Point]) -> float:
    """Unsigned area by the shoelace formula."""
    n = len(polygon)
    twice = sum(polygon[i][0] * polygon[(i + 1) % n][1] - polygon[(i + 1) % n][0] * polygon[i][1] for i in range(n))
    return abs(twice) / 2.0


def self_intersection(polygon: Sequence[Point]) -> tuple[int, int] | None:
    """Indices of the first two non-adjacent edges that cross, or None for a simple polygon."""
    n = len(polygon)
    edges = [(polygon[i], polygon[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            if segments_intersect(*edges[i], *edges[j]):
                return i, j
    return None


def point_in_polygon(point: Point, polygon: Sequence[Point]) -> bool:
    """Even-odd ray casting; points exactly on an edge count as inside."""
    x, y = point
    n = len(polygon)
    inside = False
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        if _orientation(a, b, point) == 0 and _on_segment(a, b, point):
            return True
        if (a[1] > y) != (b[1] > y):
            cross_x = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if x < cross_x:
                inside = not inside
    return inside


def segment_crosses_polygon(a: Point, b: Point, polygon: Sequence[Point]) -> bool:
    """True when the segment from a to b enters the polygon anywhere, even between its two end samples."""
    if point_in_polygon(a, polygon) or point_in_polygon(b, polygon):
        return True
    n = len(polygon)
    return any(segments_intersect(a, b, polygon[i], polygon[(i + 1) % n]) for i in range(n))
