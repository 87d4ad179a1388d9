"""`curbwatch bench floor`: how many model pixels tall a person must be for the detector to find them, and how
tall the people in a camera's rule zones are to the model (issue 22, the input a camera needs).

The reference is the detector's own best look: each sampled frame at twice the whole frame's pixel scale. Every
person it finds there is then looked for at smaller scales; binned by the height the person has in model pixels
at each scale, the share still found is the detector's recall against height, whatever the scale that made them
that small. The people of the reference whose feet stand in a rule zone give the camera's smallest person: when
that person is under the floor at the whole frame's scale, the camera needs a larger `detector.imgsz` or a closer
view; when far above it, a smaller input would find the same people in a still frame, but on the labelled clips
it lost jaywalkers (docs/accuracy.md), so the detector keeps the whole frame's scale."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from edge.bench_box import cpu_description
from edge.bench_detect import MATCH_IOU, sample_frames
from edge.boxes import Box, bottom_centre, iou
from edge.detector import DetectorBackend, open_backend, resolve_model
from edge.regions import NOT_LOOKED_FOR, model_input
from models.config.camera import CameraConfig
from models.config.detector import DetectorConfig
from models.geometry import point_in_polygon

REFERENCE_SCALE = 2.0
"""The reference look, in whole-frame scales: people four times the pixels, as found as this model finds them."""
SHARES = (1.0, 0.75, 0.5, 0.35, 0.25)
"""Scales tried, as shares of the whole frame's scale (imgsz over the frame's longer side)."""
EDGES = (0, 8, 12, 16, 20, 24, 32, 48, 64, 96)
"""Lower edges of the height bins, model pixels."""
FLOOR_RECALL = 0.9
"""The recall from which on a height counts as found reliably."""
SMALLEST_QUANTILE = 0.05
"""The camera's smallest person: this quantile of the heights in the zones, so one stray box (a bollard taken
for a person, a head over a parked car) does not set it."""


@dataclass
class Camera:
    """One camera's sampled people: heights in frame heights of those whose feet are in a rule zone."""

    name: str
    height: int
    whole: float
    """The whole frame's pixel scale: model pixels per frame pixel at imgsz over the frame's longer side."""
    in_zones: list[float] = field(default_factory=list)

    def smallest(self) -> float | None:
        if not self.in_zones:
            return None
        return float(np.quantile(self.in_zones, SMALLEST_QUANTILE))


@dataclass
class Floor:
    """Found / looked-for counts per height bin (model pixels), over every scale and camera."""

    found: list[int] = field(default_factory=lambda: [0] * len(EDGES))
    wanted: list[int] = field(default_factory=lambda: [0] * len(EDGES))
    cameras: list[Camera] = field(default_factory=list)

    def add(self, height_px: float, hit: bool) -> None:
        index = max(i for i, edge in enumerate(EDGES) if height_px >= edge)
        self.wanted[index] += 1
        self.found[index] += int(hit)


def _feet_in(box: Box, polygons: Sequence[Sequence[tuple[float, float]]]) -> bool:
    return any(point_in_polygon(bottom_centre(box), polygon) for polygon in polygons)


def _people_at(
    backend: DetectorBackend, person: int, detector: DetectorConfig, image: np.ndarray, scale: float
) -> list[Box]:
    """Person boxes (normalised; `person` is the class id) of the whole frame looked at `scale` model pixels per
    frame pixel."""
    height, width = image.shape[:2]
    raw = backend.detect(image, detector.confidence, detector.iou, [person], model_input(width, height, scale))
    return [(float(b[0]), float(b[1]), float(b[2]), float(b[3])) for b in raw.boxes]


def measure(configs: Sequence[tuple[str, CameraConfig]], frames_per_clip: int) -> Floor:
    """The recall against height over all cameras' sampled frames, and each camera's people in its zones."""
    floor = Floor()
    for name, config in configs:
        detector = config.detector
        backend = open_backend(detector.model, resolve_model(detector.model), detector, coco_names=False)
        person = next(i for i, label in backend.names.items() if label == "person")
        polygons = [zone.polygon for zone in config.zones if zone.kind not in NOT_LOOKED_FOR]
        frames = sample_frames([config.source.uri], frames_per_clip)
        if not frames:
            continue
        height, width = frames[0].shape[:2]
        camera = Camera(name, height, detector.imgsz / max(width, height))
        # One scale at a time over all frames: each input shape is a model rewritten and loaded.
        references = [_people_at(backend, person, detector, image, camera.whole * REFERENCE_SCALE) for image in frames]
        camera.in_zones = [box[3] - box[1] for boxes in references for box in boxes if _feet_in(box, polygons)]
        for share in SHARES:
            for image, reference in zip(frames, references, strict=True):
                found = _people_at(backend, person, detector, image, camera.whole * share)
                for box in reference:
                    tall = (box[3] - box[1]) * height * camera.whole * share
                    floor.add(tall, any(iou(box, other) >= MATCH_IOU for other in found))
        floor.cameras.append(camera)
    return floor


def report(floor: Floor) -> str:
    lines = [
        f"on {cpu_description()}; reference: each frame at {REFERENCE_SCALE:g}x the whole frame's scale, "
        f"looked for again at {', '.join(f'{s:g}' for s in SHARES)} of it",
        f"{'person height, model px':>24} {'found':>7} {'of':>6} {'recall':>7}",
    ]
    for index, low in enumerate(EDGES):
        high = f"{EDGES[index + 1]}" if index + 1 < len(EDGES) else ""
        wanted = floor.wanted[index]
        if wanted:
            share = floor.found[index] / wanted
            lines.append(f"{f'{low}-{high}':>24} {floor.found[index]:7d} {wanted:6d} {share:7.0%}")
    floor_at = floor_px(floor, FLOOR_RECALL)
    lines += [
        f"recall is at least {FLOOR_RECALL:.0%} from {floor_at:g} model px up",
        "",
        f"{'camera':40} {'people in zones':>15} {'smallest (p5)':>13} {'model px':>8}  under the floor",
    ]
    for camera in floor.cameras:
        smallest = camera.smallest()
        if smallest is None:
            lines.append(f"{camera.name:40} {0:15d} {'-':>13} {'-':>8}  -")
            continue
        tall = smallest * camera.height * camera.whole
        under = "yes: a larger detector.imgsz or a closer view" if tall < floor_at else "no"
        lines.append(f"{camera.name:40} {len(camera.in_zones):15d} {smallest:13.3f} {tall:8.0f}  {under}")
    lines.append(
        "(smallest: the 5th percentile of the heights, in frame heights, of the people whose feet are in a rule zone; "
        "model px: that person's height at the whole frame's scale)"
    )
    return "\n".join(lines)


def floor_px(floor: Floor, recall: float) -> float:
    """The lowest bin edge from which every bin's recall is at least `recall`; infinity when none is."""
    for index, low in enumerate(EDGES):
        rest = [(f, w) for f, w in zip(floor.found[index:], floor.wanted[index:], strict=True) if w]
        if rest and all(f / w >= recall for f, w in rest):
            return float(low)
    return math.inf
