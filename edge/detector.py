"""Detection and tracking: person plus the COCO classes the rules need, on the frames the schedule picks.

The weights are a file named in the camera config and verified by sha256 before they are loaded; the model is
loaded once per process and runs through its own runtime (`edge.detect`). The detector runs on every
`stride`-th frame, the stride derived from `detector.fps` and the source's frame rate (or set outright):
the frames in between carry the last tracks forward, marked `detected=False`, so the rules still see every
sample time."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from edge.boxes import Box
from edge.detect.model_file import ModelError, ModelFileMissing, is_native, model_format, sha256_of
from edge.detect.yolo_io import RawDetections, merged
from edge.regions import (
    FULL_SHARE,
    FULL_WINDOW,
    REGION_INPUT,
    Pixels,
    around,
    blob_area,
    model_input,
    placed,
    regions,
)
from edge.rules.people import RIDDEN_CLASSES
from edge.samples import Detection
from edge.tracking import open_tracker
from models.config.detector import DetectorConfig
from models.infraction import ModelRef

__all__ = ["Detector", "ModelError", "StageTimes", "resolve_model", "sha256_of"]

log = logging.getLogger(__name__)

WANTED_CLASSES = (
    "person",
    "bicycle",
    "motorcycle",
    "car",
    "bus",
    "truck",
    "backpack",
    "umbrella",
    "handbag",
    "suitcase",
    "bottle",
    "cup",
    "sports ball",
)
"""People, the vehicles that tell a rider from a pedestrian, and items that may be dropped."""
TRACKER_INPUT_CONFIDENCE = 0.1
"""The trackers keep tracks alive through low-score detections (their second matching stage), so they are fed
everything down to this score; new tracks still need `edge.tracking.ACTIVATION_SCORE`."""
REDACT_CONFIDENCE = 0.1
"""Every person the model sees at this score or above is redacted, tracked or not: privacy errs wide."""
FOLLOWED_CLASSES = ("person", *RIDDEN_CLASSES)
"""What the detection regions follow, and the flow tracker carries between detections: people and what they ride.
Cars and items are seen by the whole looks (and predicted by their velocity), and items a person drops lie inside
that person's region."""


@dataclass
class StageTimes:
    """Milliseconds spent in each stage of the last call; `detect` is the model, `track` the tracker."""

    detect: float = 0.0
    track: float = 0.0


class Detector:
    def __init__(self, config: DetectorConfig, model_override: str | None = None, coco_names: bool = False) -> None:
        """`coco_names` names the classes of an architecture-only model (random weights, numbered classes) by
        COCO, for speed measurements; a real model's own names are always kept."""
        self.config = config
        model_name = model_override or config.model
        path = resolve_model(model_name)
        self.sha256 = sha256_of(path)
        pinned = config.sha256
        if pinned and model_override and Path(model_override).name != Path(config.model).name:
            log.info("detector.sha256 pins %s, not %s; the pin is not applied to --model", config.model, model_name)
            pinned = None
        if pinned and pinned != self.sha256:
            raise ModelError(f"model {model_name} has sha256 {self.sha256}, but the config pins {pinned}")
        self.model_ref = self._file_ref = ModelRef(name=Path(model_name).name, sha256=self.sha256)
        self._fitted_for: tuple[int, int] | None = None
        self._backend = open_backend(model_name, path, config, coco_names)
        names = self._backend.names
        if "person" not in names.values():
            raise ModelError(f"model {model_name} has no 'person' class (its classes: {_preview(names)})")
        self.names = names
        self.class_ids = sorted(i for i, name in names.items() if name in WANTED_CLASSES)
        self.stride = config.stride or 1
        self.rate = config.fps
        self._period: float | None = None
        self._carried = frozenset(i for i, name in names.items() if name in FOLLOWED_CLASSES)
        self._tracker = open_tracker(config.tracker, self.rate, self._carried)
        self._frames_seen = 0
        self._last_run_t: float | None = None
        self._last: tuple[Detection, ...] = ()
        self._raw: tuple[Detection, ...] = ()
        self.times = StageTimes()
        self._clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
        self.regions = config.regions and self._backend.resizable
        if config.regions and not self.regions:
            log.info("detector.regions needs a .tflite YOLO export: %s looks at whole frames", self.model_ref.name)
        if self.regions:
            # Regions run the pinned weights at inputs of many shapes; events name the weights.
            self.model_ref = ModelRef(name=f"{self._file_ref.name}@regions", sha256=self.sha256)
        self.window: Box = FULL_WINDOW
        self.looked: tuple[Box, ...] = (self.window,)
        """The parts of the frame the last detector run looked at."""
        self._full_t: float | None = None
        log.info(
            "detector: %s (%s) on %s; tracker %s",
            self.model_ref.name,
            model_format(path),
            self._backend.description,
            config.tracker,
        )

    def start(self, source_fps: float, live: bool = False, frame_size: tuple[int, int] | None = None) -> None:
        """Set the schedule for a source of this frame rate (0 when unknown) and forget every track: the next frame
        starts a new video, so one loaded model can serve several sources in turn (the console's zone editor does)
        without ids or boxes carrying over from the last one. `frame_size` (width, height), when known, fits the
        model's input to the frames (`detector.fit_input`).

        A file is detected on every `stride`-th frame. A live source drops frames when the box falls behind, so
        counting frames would lower the rate exactly when it matters: there the detector runs by the frames'
        times, every `stride / source_fps` seconds (half a frame's leeway)."""
        self.stride = self.config.stride_for(source_fps)
        self.rate = source_fps / self.stride if source_fps > 0 else self.config.fps
        self._period = None
        if live:
            frame_s = 1.0 / source_fps if source_fps > 0 else 0.0
            self._period = max(0.0, 1.0 / self.rate - frame_s / 2)
        self._tracker = open_tracker(self.config.tracker, self.rate, self._carried)
        self.reset()
        if frame_size and all(frame_size) and frame_size != self._fitted_for and not self.regions:
            self._fit(frame_size)
        log.debug("detector: stride %d on a %.2f fps source: %.2f detections/s", self.stride, source_fps, self.rate)

    def _fit(self, frame_size: tuple[int, int]) -> None:
        self._fitted_for = frame_size
        fitted = self._backend.fit(*frame_size)
        if fitted is None:
            self.model_ref = self._file_ref
            return
        sha256, (height, width) = fitted
        # Events name the model that ran; `curbwatch model fit` writes this very file from the pinned one.
        self.model_ref = ModelRef(name=f"{self._file_ref.name}@{width}x{height}", sha256=sha256)
        log.info("detector: input fitted to %dx%d frames: %s (sha256 %s)", *frame_size, self.model_ref.name, sha256)

    def look_within(self, window: Box) -> Box:
        """Detect only inside `window` (`edge.regions.window_of` the camera's zones) when `detector.regions` is on;
        returns the window in use (the whole frame when regions are off)."""
        self.window = window if self.regions else FULL_WINDOW
        self._full_t = None  # the next run looks at all of it
        return self.window

    def process(
        self, image: np.ndarray, t: float, moved: bool = True, blobs: Sequence[Box] = ()
    ) -> tuple[tuple[Detection, ...], bool]:
        """Detections for the frame at source time `t` (seconds) and whether the detector ran on it (False on
        frames the schedule skips). `moved` says whether anything moved since the last run: when nothing did, the
        detector rests until `idle_fps` calls for a look. `blobs` are the boxes of what moved since the last run
        (`edge.motion`): with regions on, the detector looks there and around the people it follows."""
        if self._fitted_for is None and self.config.fit_input and not self.regions:
            # A live source that was not reachable at start shows its frame size only now.
            self._fit((image.shape[1], image.shape[0]))
        idle, last = self.config.idle_fps, self._last_run_t
        by_time, period = self._period is not None, self._period or 0.0
        due = (last is None or t - last >= period) if by_time else self._frames_seen % self.stride == 0
        self._frames_seen += 1
        if not moved and idle is not None and last is not None and t - last < 1.0 / idle - 1e-6:
            due = False
        # With regions, a due run with no one followed and nothing moved in the window has nothing to look for.
        look = self._look(image, t, blobs) if due and self.regions else []
        if not due or (self.regions and not look):
            started = time.perf_counter()
            self._tracker.between(image, t)
            self.times = StageTimes(track=(time.perf_counter() - started) * 1000.0)
            return self._last, False
        self._last_run_t = t
        started = time.perf_counter()
        raw = self._detect_in(image, look) if self.regions else self._run(image, None)
        detected_at = time.perf_counter()
        ids = self._tracker.update(raw, t, image)
        self.times = StageTimes(
            detect=(detected_at - started) * 1000.0, track=(time.perf_counter() - detected_at) * 1000.0
        )
        every = self._detections(raw, ids)
        # What lies outside the parts looked at stays as the last run saw it (parked cars, people beyond the window).
        kept = tuple(d for d in self._last if not self._looked_at(d.box))
        kept_raw = tuple(d for d in self._raw if not self._looked_at(d.box))
        self._raw = kept_raw + tuple(d for d in every if d.confidence >= REDACT_CONFIDENCE)
        self._last = kept + tuple(
            # Small, far bicycles score low and rarely start a track; their untracked boxes still tell a rider.
            d
            for d in every
            if d.track_id is not None or d.confidence >= self.config.confidence or d.cls in RIDDEN_CLASSES
        )
        return self._last, True

    def _look(self, image: np.ndarray, t: float, blobs: Sequence[Box]) -> list[tuple[Pixels, tuple[int, int]]]:
        """The parts of the frame to detect in, each with its model input (height, width): the whole window every
        1 / `full_fps` seconds, else squares around the people and ridden vehicles of the last run and what moved
        since (the window when those would cost nearly as much); none when there is nothing to look for."""
        height, width = image.shape[:2]
        # The pixel scale the whole frame would have had: a person is as many model pixels tall in the window.
        scale = self.config.imgsz / max(width, height)
        x1, y1, x2, y2 = self.window
        size = model_input((x2 - x1) * width, (y2 - y1) * height, scale)
        whole = [(placed(self.window, size, scale, (width, height)), size)]
        half_frame = 0.5 / (self.rate * self.stride) if self.rate > 0 else 0.0
        if self._full_t is None or t - self._full_t >= 1.0 / self.config.full_fps - half_frame:
            self._full_t = t
            return whole
        elapsed = t - (self._last_run_t if self._last_run_t is not None else t)
        wanted = [around(d.box, elapsed, height / width) for d in self._last if d.cls in FOLLOWED_CLASSES]
        wanted += [blob_area(blob, height / width) for blob in blobs]
        looks = regions(wanted, self.window, (width, height), REGION_INPUT / scale)
        if len(looks) * REGION_INPUT**2 >= FULL_SHARE * math.prod(size):
            self._full_t = t
            return whole
        return [(look, (REGION_INPUT, REGION_INPUT)) for look in looks]

    def _detect_in(self, image: np.ndarray, looks: list[tuple[Pixels, tuple[int, int]]]) -> RawDetections:
        """Detections in the parts `looks` of the frame, each at its model input, with boxes normalised to the
        whole frame."""
        height, width = image.shape[:2]
        frame = np.array([width, height, width, height], np.float32)
        found = []
        for (left, top, right, bottom), size in looks:
            raw = self._run(image[top:bottom, left:right], size)
            shift = np.array([left, top, left, top], np.float32)
            span = np.array([right - left, bottom - top, right - left, bottom - top], np.float32)
            found.append(RawDetections((raw.boxes * span + shift) / frame, raw.classes, raw.scores))
        self.looked = tuple((x1 / width, y1 / height, x2 / width, y2 / height) for (x1, y1, x2, y2), _ in looks)
        return merged(found, self.config.iou)

    def _looked_at(self, box: Box) -> bool:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return any(part[0] <= cx <= part[2] and part[1] <= cy <= part[3] for part in self.looked)

    def _run(self, image: np.ndarray, size: tuple[int, int] | None) -> RawDetections:
        return self._backend.detect(
            self._for_model(image),
            min(TRACKER_INPUT_CONFIDENCE, self.config.confidence),
            self.config.iou,
            self.class_ids,
            size,
        )

    def reset(self) -> None:
        """Forget every track and the schedule's phase (see `start`), keeping the schedule itself."""
        self._tracker.reset()
        self._full_t = None
        self.looked = (self.window,)
        self._frames_seen = 0
        self._last_run_t = None
        self._last = ()
        self._raw = ()

    @property
    def raw_people(self) -> list[Box]:
        """Person boxes of the last detector run, tracked or not, low scores included."""
        return [d.box for d in self._raw if d.cls == "person"]

    def detect_only(self, image: np.ndarray, confidence: float | None = None) -> tuple[Detection, ...]:
        """Plain detection of every class at `confidence` (default detector.confidence), without tracking (the
        privacy check on evidence images uses it)."""
        raw = self._backend.detect(self._for_model(image), confidence or self.config.confidence, self.config.iou, None)
        return self._detections(raw, None)

    def _for_model(self, image: np.ndarray) -> np.ndarray:
        """The frame as the model gets it: with its contrast evened out when it is dark (`low_light_below`)."""
        below = self.config.low_light_below
        if below is None or image.ndim != 3:
            return image
        small = cv2.resize(image, (64, 36), interpolation=cv2.INTER_AREA)
        if float(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).mean()) >= below:
            return image
        lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
        lab[:, :, 0] = self._clahe.apply(lab[:, :, 0])
        return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)

    def _detections(self, raw: RawDetections, ids: np.ndarray | None) -> tuple[Detection, ...]:
        return tuple(
            Detection(
                cls=self.names.get(int(cls), str(int(cls))),
                confidence=float(score),
                box=(float(box[0]), float(box[1]), float(box[2]), float(box[3])),
                track_id=None if ids is None or ids[i] < 0 else int(ids[i]),
            )
            for i, (box, cls, score) in enumerate(zip(raw.boxes, raw.classes, raw.scores, strict=True))
        )


class DetectorBackend(Protocol):
    """What both backends offer: the model's class names, a line for the log, and one frame's detections."""

    names: dict[int, str]
    description: str

    @property
    def resizable(self) -> bool:
        """Whether `detect` can take any input `size` (detection regions need it)."""
        ...

    def fit(self, frame_width: int, frame_height: int) -> tuple[str, tuple[int, int]] | None:
        """Run at an input fitted to frames of this size where the backend can: the sha256 of the model that now
        runs and its input (height, width); None where the model keeps its own input."""
        ...

    def detect(
        self,
        image: np.ndarray,
        confidence: float,
        iou: float,
        classes: list[int] | None,
        size: tuple[int, int] | None = None,
    ) -> RawDetections:
        """Boxes normalised to the frame, best first; `classes` None keeps every class; `size` (height, width) runs
        the model at that input instead of its own."""
        ...


def open_backend(model_name: str, path: Path, config: DetectorConfig, coco_names: bool) -> DetectorBackend:
    """The model's own runtime for .tflite, .onnx and OpenVINO IR (no torch); Ultralytics for the rest."""
    if is_native(path):
        from edge.detect.native import NativeBackend

        return NativeBackend(path, config.threads, config.imgsz, config.fit_input)
    from edge.detect.ultralytics_backend import UltralyticsBackend

    return UltralyticsBackend(model_name, config.imgsz, config.device, coco_names)


def _preview(names: dict[int, str]) -> str:
    values = list(names.values())
    return ", ".join(values[:8]) + (", ..." if len(values) > 8 else "")


def resolve_model(model_name: str) -> Path:
    """The weights file; a bare architecture name such as `yolov8n.yaml` (random weights, for speed
    comparisons) resolves to the file Ultralytics ships."""
    path = Path(model_name)
    if path.exists():
        return path
    if path.suffix in (".yaml", ".yml") and path.parent == Path("."):
        from edge.detect.ultralytics_backend import architecture_file

        shipped = architecture_file(model_name)
        if shipped is not None:
            return shipped
    raise ModelFileMissing(model_name)
