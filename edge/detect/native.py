"""The torch-free detector backend: letterbox, the model's own runtime, decode and suppression."""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from collections.abc import Collection
from pathlib import Path

import numpy as np

from edge.detect.fitted_input import check_refittable, fitted_size, refit
from edge.detect.model_file import ModelError, model_format, stored_names
from edge.detect.runtimes import Session, open_session
from edge.detect.yolo_io import RawDetections, decode, letterbox

log = logging.getLogger(__name__)

SIZES_KEPT = 4
"""Models at other inputs kept loaded: detection regions use two (the zones' window and `edge.regions`'
REGION_INPUT), the privacy check a third. A rewrite and load takes 0.2-0.4 s and each holds about 30 MB."""


class NativeBackend:
    def __init__(self, path: Path, threads: int | None, imgsz: int, fit_input: bool = False) -> None:
        """With `fit_input`, a LiteRT model is loaded by `fit` at the shape of the source's frames (or at its own
        input by the first detection that comes before any `fit`), so it is loaded once either way."""
        self._path, self._threads, self._imgsz = path, threads, imgsz
        self._fits = fit_input and model_format(path) == "tflite"
        self._session: Session | None = None if self._fits else open_session(path, threads, imgsz)
        self.names = self._session.names if self._session is not None else stored_names(path)
        self.description = self._describe() if self._session is not None else "LiteRT, input fitted to each source"
        self._by_size: OrderedDict[tuple[int, int], Session] = OrderedDict()
        self._bytes: bytes | None = None
        self._resizable: bool | None = None

    def _describe(self) -> str:
        session = self._opened()
        return f"{session.runtime}, input {session.input_size[1]}x{session.input_size[0]}"

    def _opened(self) -> Session:
        if self._session is None:
            self._session = open_session(self._path, self._threads, self._imgsz)
        return self._session

    def fit(self, frame_width: int, frame_height: int) -> tuple[str, tuple[int, int]] | None:
        """Run a LiteRT model at the input that fits frames of this size; returns the sha256 of the model that
        now runs and its input (height, width), or None when the model runs at its own input: other formats,
        `fit_input` off, a square frame, or a file not laid out as a YOLO export (logged)."""
        if not self._fits:
            return None
        try:
            content, size = refit(self._path.read_bytes(), lambda side: fitted_size(frame_width, frame_height, side))
        except ModelError as exc:
            log.warning("%s runs at its own input size: %s", self._path.name, exc)
            self._fits = False
            self.description = self._describe()
            return None
        if size[0] == size[1]:
            self._session = None
            self.description = self._describe()
            return None
        self._session = open_session(self._path, self._threads, self._imgsz, content)
        self.description = self._describe()
        return hashlib.sha256(content).hexdigest(), size

    def detect(
        self,
        image: np.ndarray,
        confidence: float,
        iou: float,
        classes: Collection[int] | None,
        size: tuple[int, int] | None = None,
    ) -> RawDetections:
        session = self._opened() if size is None else self._sized(size)
        tensor, placement = letterbox(image, session.input_size)
        return decode(session.run(tensor), placement, confidence, iou, classes)

    @property
    def resizable(self) -> bool:
        """Whether the model can run at inputs of any shape (a LiteRT YOLO export, refitted): detection regions
        need it. Found out once, by refitting it."""
        if self._resizable is None:
            self._resizable = model_format(self._path) == "tflite"
            if self._resizable:
                try:
                    check_refittable(self._content())
                except ModelError as exc:
                    log.info("%s runs only at its own input: %s", self._path.name, exc)
                    self._resizable = False
        return self._resizable

    def _content(self) -> bytes:
        if self._bytes is None:
            self._bytes = self._path.read_bytes()
        return self._bytes

    def _sized(self, size: tuple[int, int]) -> Session:
        """The model at input `size` (height, width): a LiteRT export refitted to it (kept for the next time, the
        few most recent), any other format at its own input."""
        if not self.resizable:
            return self._opened()
        if size in self._by_size:
            self._by_size.move_to_end(size)
            return self._by_size[size]
        content, _ = refit(self._content(), lambda _side: size)
        session = open_session(self._path, self._threads, self._imgsz, content)
        self._by_size[size] = session
        if len(self._by_size) > SIZES_KEPT:
            self._by_size.popitem(last=False)
        return session
