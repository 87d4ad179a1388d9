"""`curbwatch bench detect`: the detector stage alone, model against model on frames of real clips.

The first candidate is the baseline, measured in the same run: each row gives milliseconds per detection,
the ratio to the baseline, and the share of the baseline's person boxes (at detector.confidence) that the
candidate also finds (IoU at least 0.5), so a faster model or runtime is only taken when it sees the same
people."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.bench_box import cpu_description
from edge.boxes import Box, iou
from edge.detect.model_file import ModelError, model_format
from edge.detect.yolo_io import RawDetections
from edge.detector import DetectorBackend, open_backend, resolve_model
from models.config.detector import DetectorConfig

MATCH_IOU = 0.5


@dataclass(frozen=True)
class Candidate:
    """A weights file and how it runs: `runtime` is 'native' (its own runtime, at the model's own input),
    'fitted' (its own runtime, a LiteRT model's input fitted to each clip's frames) or 'ultralytics'."""

    model: str
    runtime: str

    @property
    def label(self) -> str:
        return f"{Path(self.model).name} ({model_format(resolve_model(self.model))}, {self.runtime})"


@dataclass
class Row:
    candidate: Candidate
    ms: list[float]
    people: int
    matched: int

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms) if self.ms else 0.0


def sample_frames(videos: list[str], per_video: int) -> list[np.ndarray]:
    """`per_video` frames spread evenly over each clip."""
    frames = []
    for video in videos:
        capture = cv2.VideoCapture(video)
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or per_video
        wanted = {round(i * (count - 1) / max(per_video - 1, 1)) for i in range(per_video)}
        index = 0
        while wanted:
            ok, frame = capture.read()
            if not ok:
                break
            if index in wanted:
                frames.append(frame)
                wanted.discard(index)
            index += 1
        capture.release()
    return frames


def _backend(candidate: Candidate, config: DetectorConfig) -> DetectorBackend:
    path = resolve_model(candidate.model)
    if candidate.runtime == "ultralytics":
        from edge.detect.ultralytics_backend import UltralyticsBackend

        return UltralyticsBackend(candidate.model, config.imgsz, config.device, coco_names=False)
    fitted = config.model_copy(update={"fit_input": candidate.runtime == "fitted"})
    return open_backend(candidate.model, path, fitted, coco_names=False)


def _person_boxes(raw: RawDetections, person: int) -> list[Box]:
    return [
        (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
        for b, cls in zip(raw.boxes, raw.classes, strict=True)
        if cls == person
    ]


def bench_detect(candidates: list[Candidate], frames: list[np.ndarray], config: DetectorConfig) -> list[Row]:
    """Time every candidate on every frame (after one warm-up frame per clip) and match its person boxes to the
    first's."""
    if not candidates:
        raise ModelError("no model to measure")
    rows: list[Row] = []
    baseline: list[list[Box]] = []
    for number, candidate in enumerate(candidates):
        backend = _backend(candidate, config)
        person = next(i for i, name in backend.names.items() if name == "person")
        row = Row(candidate, [], 0, 0)
        shape: tuple[int, ...] = ()
        for index, frame in enumerate(frames):
            if frame.shape != shape:  # a new clip: fit the input where asked, then one untimed warm-up run
                shape = frame.shape
                backend.fit(shape[1], shape[0])
                backend.detect(frame, config.confidence, config.iou, None)
            started = time.perf_counter()
            raw = backend.detect(frame, config.confidence, config.iou, None)
            row.ms.append((time.perf_counter() - started) * 1000.0)
            boxes = _person_boxes(raw, person)
            if number == 0:
                baseline.append(boxes)
            reference = baseline[index]
            row.people += len(reference)
            row.matched += sum(any(iou(ref, box) >= MATCH_IOU for box in boxes) for ref in reference)
        rows.append(row)
    return rows


def report(rows: list[Row], frames: int) -> str:
    base = rows[0].median_ms or 1.0
    lines = [
        f"{frames} frames on {cpu_description()}; baseline: {rows[0].candidate.label}",
        f"{'model':58} {'ms/detection':>12} {'ratio':>7} {'people matched':>15}",
    ]
    for row in rows:
        share = row.matched / row.people if row.people else 1.0
        lines.append(
            f"{row.candidate.label:58} {row.median_ms:12.1f} {row.median_ms / base:7.2f} {share:8.1%} of {row.people}"
        )
    return "\n".join(lines)
