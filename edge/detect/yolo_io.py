"""What goes into a YOLO detection model and what comes out: a letterboxed frame, and raw rows of boxes and
class scores turned into detections. Pure numpy and OpenCV, the same arithmetic as Ultralytics' own
pre- and post-processing, so every runtime gives the boxes the full install gives."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114
"""Grey of the letterbox bars, as the models were trained with."""
MAX_DETECTIONS = 300
"""Boxes kept per frame after suppression."""


@dataclass(frozen=True)
class Placement:
    """Where the frame sits inside the model input: scale, then offset by the left and top bars."""

    scale: float
    left: int
    top: int
    width: int
    height: int


def letterbox(image: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, Placement]:
    """The BGR frame scaled to fit `size` (height, width) without distortion, centred between grey bars, as RGB
    float32 in 0..1 (HWC)."""
    height, width = image.shape[:2]
    target_h, target_w = size
    scale = min(target_h / height, target_w / width)
    new_w, new_h = max(round(width * scale), 1), max(round(height * scale), 1)
    pad_w, pad_h = (target_w - new_w) / 2, (target_h - new_h) / 2
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    # The 0.1 nudges put an odd pixel of padding on the bottom/right, as Ultralytics does.
    top, bottom = round(pad_h - 0.1), round(pad_h + 0.1)
    left, right = round(pad_w - 0.1), round(pad_w + 0.1)
    padded = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3)
    rgb = cv2.cvtColor(padded, cv2.COLOR_BGR2RGB)
    return rgb.astype(np.float32) / 255.0, Placement(scale, left, top, width, height)


@dataclass(frozen=True)
class RawDetections:
    """Boxes normalised to the frame (x1, y1, x2, y2), class ids and scores, best first."""

    boxes: np.ndarray
    classes: np.ndarray
    scores: np.ndarray

    def __len__(self) -> int:
        return len(self.scores)


def decode(
    output: np.ndarray,
    placement: Placement,
    confidence: float,
    iou: float,
    classes: Collection[int] | None = None,
) -> RawDetections:
    """Rows of (cx, cy, w, h, score per class) in model-input pixels, shape (1, 4 + classes, anchors), to the
    frame's detections: each anchor takes its best class, scores at or below `confidence` go, then classes
    outside `classes`, then per-class non-maximum suppression at `iou`."""
    rows = output[0].T
    class_scores = rows[:, 4:]
    best = class_scores.argmax(axis=1)
    scores = class_scores[np.arange(len(rows)), best]
    keep = scores > confidence
    if classes is not None:
        keep &= np.isin(best, np.fromiter(classes, dtype=best.dtype))
    rows, best, scores = rows[keep], best[keep], scores[keep]
    if len(rows) == 0:
        return RawDetections(np.zeros((0, 4), np.float32), np.zeros(0, int), np.zeros(0, np.float32))
    xywh = np.column_stack([rows[:, 0] - rows[:, 2] / 2, rows[:, 1] - rows[:, 3] / 2, rows[:, 2], rows[:, 3]])
    chosen = _suppressed(xywh, scores, best, confidence, iou)
    boxes = np.column_stack([xywh[chosen, 0], xywh[chosen, 1], xywh[chosen, 0] + xywh[chosen, 2]])
    boxes = np.column_stack([boxes, xywh[chosen, 1] + xywh[chosen, 3]])
    boxes[:, [0, 2]] = (boxes[:, [0, 2]] - placement.left) / placement.scale / placement.width
    boxes[:, [1, 3]] = (boxes[:, [1, 3]] - placement.top) / placement.scale / placement.height
    return RawDetections(np.clip(boxes, 0.0, 1.0).astype(np.float32), best[chosen], scores[chosen].astype(np.float32))


def merged(parts: list[RawDetections], iou: float) -> RawDetections:
    """The detections of several overlapping parts of one frame (boxes already normalised to the frame) as one
    frame's: a person seen in two parts is kept once, by per-class non-maximum suppression at `iou`."""
    if len(parts) == 1:
        return parts[0]
    boxes = np.concatenate([p.boxes.reshape(-1, 4) for p in parts]).astype(np.float32)
    classes = np.concatenate([p.classes for p in parts]).astype(int)
    scores = np.concatenate([p.scores for p in parts]).astype(np.float32)
    if len(scores) == 0:
        return RawDetections(boxes, classes, scores)
    xywh = np.column_stack([boxes[:, 0], boxes[:, 1], boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]])
    chosen = _suppressed(xywh, scores, classes, 0.0, iou)
    return RawDetections(boxes[chosen], classes[chosen], scores[chosen])


def _suppressed(xywh: np.ndarray, scores: np.ndarray, classes: np.ndarray, confidence: float, iou: float) -> np.ndarray:
    """Rows kept by per-class non-maximum suppression, best score first, at most MAX_DETECTIONS."""
    kept = cv2.dnn.NMSBoxesBatched(xywh.tolist(), scores.tolist(), classes.tolist(), confidence, iou)
    chosen = np.asarray(kept, dtype=int).reshape(-1)
    return chosen[np.argsort(-scores[chosen], kind="stable")][:MAX_DETECTIONS]
