"""Detection and tracking with Ultralytics YOLO: person plus the COCO classes the rules need.

The weights are a file named in the camera config and verified by sha256 before they are loaded; the
model is loaded once per process. `stride` runs the detector on every Nth frame only: the frames in
between carry the last tracks forward, marked `detected=False`, so the rules still see every sample time."""

from __future__ import annotations

import hashlib
import logging
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge.samples import Box, Detection
from models.config.detector import DetectorConfig
from models.infraction import ModelRef

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
TRACKERS = Path(__file__).parent / "trackers"
"""Our tracker settings (see the comments in each file); never ReID."""
TRACKER_INPUT_CONFIDENCE = 0.1
"""ByteTrack/BoT-SORT keep tracks alive through low-score detections (their second association stage), so
they are fed everything down to this score; new tracks still need `track_high_thresh`/`new_track_thresh`."""
REDACT_CONFIDENCE = 0.1
"""Every person the model sees at this score or above is redacted, tracked or not: privacy errs wide."""
RIDDEN = frozenset({"bicycle", "motorcycle"})
"""Small, far bicycles score low and rarely start a track; their untracked boxes still tell a rider."""


class ModelError(Exception):
    """Weights that cannot be used: missing, wrong sha256, unloadable, or without a `person` class."""


def sha256_of(path: Path) -> str:
    """Digest of a weights file; for a model folder (OpenVINO), of its files' names and digests in order."""
    if path.is_dir():
        outer = hashlib.sha256()
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            outer.update(f"{item.relative_to(path).as_posix()}\0{sha256_of(item)}\n".encode())
        return outer.hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
        self.stride = config.stride
        model_name = model_override or config.model
        path = resolve_model(model_name)
        self.sha256 = sha256_of(path)
        pinned = config.sha256
        if pinned and model_override and Path(model_override).name != Path(config.model).name:
            log.info("detector.sha256 pins %s, not %s; the pin is not applied to --model", config.model, model_name)
            pinned = None
        if pinned and pinned != self.sha256:
            raise ModelError(f"model {model_name} has sha256 {self.sha256}, but the config pins {pinned}")
        self.model_ref = ModelRef(name=Path(model_name).name, sha256=self.sha256)
        self._model = load_yolo(model_name)
        names: dict[int, str] = dict(self._model.names)
        if coco_names and all(str(name).isdigit() for name in names.values()):
            names = coco_class_names()
        if "person" not in names.values():
            raise ModelError(f"model {model_name} has no 'person' class (its classes: {_preview(names)})")
        self.names = names
        self.class_ids = sorted(i for i, name in names.items() if name in WANTED_CLASSES)
        self._frames_seen = 0
        self._last: tuple[Detection, ...] = ()
        self.times = StageTimes()
        self._raw: tuple[Detection, ...] = ()
        # Registered before the first track() call, so it runs before the tracker replaces the raw boxes.
        self._model.add_callback("on_predict_postprocess_end", self._capture_raw)  # type: ignore[attr-defined]

    def process(self, image: np.ndarray) -> tuple[tuple[Detection, ...], bool]:
        """Detections for this frame and whether the detector ran on it (False on stride-skipped frames)."""
        run = self._frames_seen % self.stride == 0
        self._frames_seen += 1
        if not run:
            self.times = StageTimes()
            return self._last, False
        started = time.perf_counter()
        result = self._model.track(
            image,
            persist=True,
            tracker=str(TRACKERS / f"{self.config.tracker}.yaml"),
            classes=self.class_ids,
            conf=min(TRACKER_INPUT_CONFIDENCE, self.config.confidence),
            iou=self.config.iou,
            imgsz=self.config.imgsz,
            device=self.config.device,
            verbose=False,
        )[0]
        total_ms = (time.perf_counter() - started) * 1000.0
        model_ms = sum(result.speed.values())
        self.times = StageTimes(detect=model_ms, track=max(0.0, total_ms - model_ms))
        kept = [d for d in self._detections(result) if d.track_id is not None or self._confident(d)]
        kept += [
            d
            for d in self._raw
            if d.cls in RIDDEN and not any(k.cls == d.cls and box_iou(k.box, d.box) > 0.5 for k in kept)
        ]
        self._last = tuple(kept)
        return self._last, True

    def reset(self) -> None:
        """Forget every track and the stride phase, so the next frame starts a new video: one loaded model
        can then serve several sources in turn (the console's zone editor does) without ids or boxes
        carrying over from the last one."""
        predictor = getattr(self._model, "predictor", None)
        for tracker in getattr(predictor, "trackers", ()):
            tracker.reset()
        self._frames_seen = 0
        self._last = ()
        self._raw = ()

    @property
    def raw_people(self) -> list[Box]:
        """Person boxes of the last detector run before tracking, untracked and low scores included."""
        return [d.box for d in self._raw if d.cls == "person"]

    def _confident(self, detection: Detection) -> bool:
        return detection.confidence >= self.config.confidence

    def _capture_raw(self, predictor: object) -> None:
        results = predictor.results  # type: ignore[attr-defined]
        self._raw = tuple(d for r in results for d in self._detections(r) if d.confidence >= REDACT_CONFIDENCE)

    def detect_only(self, image: np.ndarray) -> tuple[Detection, ...]:
        """Plain detection without tracking (the privacy check on evidence images uses it)."""
        result = self._model.predict(
            image, conf=self.config.confidence, imgsz=self.config.imgsz, device=self.config.device, verbose=False
        )[0]
        return self._detections(result)

    def _detections(self, result: object) -> tuple[Detection, ...]:
        boxes = result.boxes  # type: ignore[attr-defined]
        if boxes is None or len(boxes) == 0:
            return ()
        xyxyn = boxes.xyxyn.cpu().numpy()
        classes = boxes.cls.cpu().numpy().astype(int)
        confidences = boxes.conf.cpu().numpy()
        ids = boxes.id.cpu().numpy().astype(int) if boxes.id is not None else [None] * len(classes)
        return tuple(
            Detection(
                cls=self.names[int(cls)],
                confidence=float(conf),
                box=tuple(float(min(1.0, max(0.0, v))) for v in box),  # type: ignore[arg-type]
                track_id=None if track_id is None else int(track_id),
            )
            for box, cls, conf, track_id in zip(xyxyn, classes, confidences, ids, strict=True)
        )


def box_iou(a: Box, b: Box) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def coco_class_names() -> dict[int, str]:
    """The 80 COCO names as Ultralytics ships them (offline: a file inside the package)."""
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    return dict(YAML.load(check_yaml("coco.yaml"))["names"])


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
        from ultralytics.utils.checks import check_yaml

        # Ultralytics names a scale in the file name (yolov8n.yaml) but ships one file per family (yolov8.yaml).
        family = re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", model_name)
        try:
            return Path(check_yaml(family))
        except FileNotFoundError:
            pass
    raise ModelError(f"model file not found: {model_name}")


def quiet_ultralytics() -> None:
    """Ultralytics logs to stdout, where our summaries and tables go: move it to stderr, and keep its
    chatter (model loading, export banners) out unless we log at DEBUG."""
    from ultralytics.utils import LOGGER

    for handler in LOGGER.handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream is sys.stdout:
            handler.setStream(sys.stderr)
    if not log.isEnabledFor(logging.DEBUG):
        LOGGER.setLevel(logging.WARNING)


def load_yolo(model_name: str) -> object:
    from ultralytics import YOLO

    quiet_ultralytics()
    try:
        return YOLO(model_name, task="detect")
    except Exception as exc:
        # Ultralytics raises many exception types for unusable weights; the user needs one line.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load model {model_name}: {first}") from None
