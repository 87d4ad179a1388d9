"""Hand-written tracks for the rule tests: people and objects as normalised boxes, no video."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from edge.samples import Detection, FrameSample, StaticItem
from models.config.zones import Zone
from models.infraction import SignalPhase

START = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
WIDTH, HEIGHT = 640, 360


def person(track_id: int, foot: tuple[float, float], confidence: float = 0.8) -> Detection:
    x, y = foot
    return Detection("person", confidence, (x - 0.02, y - 0.15, x + 0.02, y), track_id)


def thing(cls: str, box: tuple[float, float, float, float], track_id: int | None = None) -> Detection:
    return Detection(cls, 0.7, box, track_id)


def sample(
    index: int,
    t: float,
    detections: Iterable[Detection] = (),
    *,
    detected: bool = True,
    phase: SignalPhase | None = None,
    items: Iterable[StaticItem] = (),
) -> FrameSample:
    return FrameSample(
        index=index,
        t=t,
        wall=START + timedelta(seconds=t),
        width=WIDTH,
        height=HEIGHT,
        detections=tuple(detections),
        static_items=tuple(items),
        detected=detected,
        signal_phase=phase,
    )


def timeline(
    fps: float, duration_s: float, frame: Callable[[float], Iterable[Detection]], **kwargs: object
) -> list[FrameSample]:
    """One sample per frame at `fps`, with the detections `frame(t)` gives at each time."""
    count = round(duration_s * fps) + 1
    return [sample(i, i / fps, frame(i / fps), **kwargs) for i in range(count)]  # type: ignore[arg-type]


def run(rule: object, samples: Iterable[FrameSample]) -> list:
    hits = []
    for s in samples:
        hits += rule.update(s)  # type: ignore[attr-defined]
    return hits + rule.finish()  # type: ignore[attr-defined]


def zone(name: str, kind: str, x1: float, y1: float, x2: float, y2: float) -> Zone:
    return Zone(name=name, kind=kind, polygon=[(x1, y1), (x2, y1), (x2, y2), (x1, y2)])  # type: ignore[arg-type]


def lerp(a: tuple[float, float], b: tuple[float, float], f: float) -> tuple[float, float]:
    f = max(0.0, min(1.0, f))
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)
