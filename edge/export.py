"""`curbwatch model export`: convert detector weights with Ultralytics (ONNX, OpenVINO) for faster CPU
inference; the exported file loads through the same `Detector`."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from edge.detect.ultralytics_backend import coco_class_names, load_yolo
from edge.detector import ModelError, resolve_model, sha256_of

log = logging.getLogger(__name__)

FORMATS = ("onnx", "openvino")


def export_model(model: str, fmt: str, imgsz: int, output_dir: Path | None = None) -> tuple[Path, str]:
    """Export `model` to `fmt`; return the new file (or OpenVINO folder) and its sha256.

    An architecture-only `.yaml` model (random weights) gets the COCO class names it was laid out for, so
    the export can be benchmarked through the detector; it detects nothing useful."""
    source = resolve_model(model)
    yolo = load_yolo(model)
    if source.suffix in (".yaml", ".yml"):
        log.warning("%s is an architecture only (random weights): the export is for speed measurements", model)
        yolo.model.names = coco_class_names()  # type: ignore[attr-defined]
    try:
        produced = Path(yolo.export(format=fmt, imgsz=imgsz, verbose=False))  # type: ignore[attr-defined]
    except Exception as exc:
        # Ultralytics refuses some conversions (e.g. from .tflite) with assorted exception types.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"cannot export {model} to {fmt}: {first}") from None
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        target = output_dir / produced.name
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        produced = Path(shutil.move(str(produced), target))
    return produced, sha256_of(produced)
