"""The one detector of a console process and the redacted frames it makes for the zone editor.

DESIGN.md section 6: raw frames never leave the process that reads them. The editor's frame goes through the
real detector and the edge's Redactor, as the pipeline's evidence does, before it is encoded; nothing else is
sent.
The model is loaded on first use and shared, one caller at a time, by frames and test replays."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2

from models.config.detector import DetectorConfig
from models.errors import UnavailableError

if TYPE_CHECKING:
    from edge.preview import Detector

log = logging.getLogger(__name__)

JPEG_QUALITY = 85
CACHED_FRAMES = 16
STREAM_FRAME_TTL_S = 60.0
"""A file's first frame never changes; a stream's is taken again after this long."""


class DetectorBusy(UnavailableError):
    """The detector is running a test replay; the frame can be asked for again when it ends."""


@dataclass(frozen=True)
class Frame:
    jpeg: bytes
    width: int
    height: int
    taken: float


class EditorDetector:
    """The console's detector, loaded on first use. `use()` holds it for one caller: Ultralytics' predictor
    and its tracker state are not safe to share between threads."""

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._detector: Detector | None = None

    @contextmanager
    def use(self, wait_s: float) -> Iterator[Detector]:
        """The loaded, reset detector; DetectorBusy when another caller holds it longer than `wait_s`; ModelError
        when the weights cannot be used."""
        if not self._lock.acquire(timeout=wait_s):
            raise DetectorBusy("the detector is busy with a test replay; try again when it ends")
        try:
            if self._detector is None:
                from edge.preview import Detector

                started = time.perf_counter()
                self._detector = Detector(self.config)
                log.info("zone editor: loaded %s in %.1f s", self.config.model, time.perf_counter() - started)
            self._detector.reset()
            yield self._detector
        finally:
            self._lock.release()


def redacted_first_frame(uri: str, detector: EditorDetector, wait_s: float = 2.0) -> Frame:
    """The first frame of `uri` with every person pixelated as the edge pipeline does it (mode 'person',
    whatever a camera file says: the editor never shows people). Raises SourceError, ModelError, DetectorBusy."""
    from edge.preview import first_frame, redact_people

    frame = first_frame(uri)
    with detector.use(wait_s) as model:
        image = redact_people(model, frame)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("could not encode the frame as JPEG")
    height, width = image.shape[:2]
    return Frame(encoded.tobytes(), width, height, time.monotonic())


class FrameCache:
    """Redacted frames by source key (a file's also by its modification time), so reloading the editor does not
    run the detector again."""

    def __init__(self, size: int = CACHED_FRAMES) -> None:
        self.size = size
        self._frames: OrderedDict[tuple[str, float], Frame] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, float], ttl_s: float | None) -> Frame | None:
        with self._lock:
            frame = self._frames.get(key)
            if frame is None or (ttl_s is not None and time.monotonic() - frame.taken > ttl_s):
                return None
            self._frames.move_to_end(key)
            return frame

    def put(self, key: tuple[str, float], frame: Frame) -> None:
        with self._lock:
            self._frames[key] = frame
            self._frames.move_to_end(key)
            while len(self._frames) > self.size:
                self._frames.popitem(last=False)
