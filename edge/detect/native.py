"""The torch-free detector backend: letterbox, the model's own runtime, decode and suppression."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np

from edge.detect.runtimes import open_session
from edge.detect.yolo_io import RawDetections, decode, letterbox


class NativeBackend:
    def __init__(self, path: Path, threads: int | None, imgsz: int) -> None:
        self._session = open_session(path, threads, imgsz)
        self.names = self._session.names
        self.description = f"{self._session.runtime}, input {self._session.input_size[1]}x{self._session.input_size[0]}"

    def detect(
        self, image: np.ndarray, confidence: float, iou: float, classes: Collection[int] | None
    ) -> RawDetections:
        tensor, placement = letterbox(image, self._session.input_size)
        return decode(self._session.run(tensor), placement, confidence, iou, classes)
