"""The Ultralytics backend, for `.pt` weights and architecture-only `.yaml` models (full install only: it
imports torch). Exports and speed comparisons across formats go through it."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Collection
from pathlib import Path

import numpy as np

from edge.detect.model_file import ModelError
from edge.detect.yolo_io import RawDetections

log = logging.getLogger(__name__)


class UltralyticsBackend:
    def __init__(self, model_name: str, imgsz: int, device: str, coco_names: bool) -> None:
        """`coco_names` names the classes of an architecture-only model (random weights, numbered classes) by
        COCO, for speed measurements; a real model's own names are always kept."""
        self._model = load_yolo(model_name)
        self._imgsz = imgsz
        self._device = device
        names = {int(k): str(v) for k, v in dict(self._model.names).items()}  # type: ignore[attr-defined]
        if coco_names and all(name.isdigit() for name in names.values()):
            names = coco_class_names()
        self.names = names
        self.description = f"Ultralytics (torch), input {imgsz}"
        self.resizable = False
        """Detection regions run a .tflite export at many input shapes; Ultralytics looks at whole frames."""

    def fit(self, _frame_width: int, _frame_height: int) -> None:
        """Ultralytics' own letterbox already pads .pt models only to a multiple of 32 (its `auto` mode)."""
        return None

    def detect(
        self,
        image: np.ndarray,
        confidence: float,
        iou: float,
        classes: Collection[int] | None,
        size: tuple[int, int] | None = None,
    ) -> RawDetections:
        result = self._model.predict(  # type: ignore[attr-defined]
            image,
            conf=confidence,
            iou=iou,
            imgsz=list(size) if size is not None else self._imgsz,
            classes=list(classes) if classes is not None else None,
            device=self._device,
            verbose=False,
        )[0]
        boxes = result.boxes
        return RawDetections(
            boxes.xyxyn.cpu().numpy().astype(np.float32),
            boxes.cls.cpu().numpy().astype(int),
            boxes.conf.cpu().numpy().astype(np.float32),
        )


def architecture_file(model_name: str) -> Path | None:
    """The file Ultralytics ships for a bare architecture name such as `yolov8n.yaml` (random weights, for
    speed comparisons), or None when there is no such name or Ultralytics is not installed."""
    try:
        from ultralytics.utils.checks import check_yaml
    except ImportError:
        return None
    # Ultralytics names a scale in the file name (yolov8n.yaml) but ships one file per family (yolov8.yaml).
    family = re.sub(r"(\d+)([nslmx])(.+)?$", r"\1\3", model_name)
    try:
        return Path(check_yaml(family))
    except FileNotFoundError:
        return None


def coco_class_names() -> dict[int, str]:
    """The 80 COCO names as Ultralytics ships them (offline: a file inside the package)."""
    from ultralytics.utils import YAML
    from ultralytics.utils.checks import check_yaml

    return dict(YAML.load(check_yaml("coco.yaml"))["names"])


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
    try:
        from ultralytics import YOLO
    except ImportError:
        raise ModelError(
            f"{Path(model_name).name} needs Ultralytics: pip install 'curbwatch[full]'; a camera box runs .tflite "
            "and .onnx models (and OpenVINO folders with 'curbwatch[box,openvino]')"
        ) from None
    quiet_ultralytics()
    try:
        return YOLO(model_name, task="detect")
    except Exception as exc:
        # Ultralytics raises many exception types for unusable weights; the user needs one line.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot load model {model_name}: {first}") from None
