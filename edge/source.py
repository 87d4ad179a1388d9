"""Where frames come from: video files, RTSP/HTTP streams and local cameras, all through OpenCV.

Every frame carries its index in the source and a timestamp from the source itself (the file position
for files, the wall clock for live sources), so rules hold at any frame rate (DESIGN.md section 3)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://")
MAX_CONSECUTIVE_BAD_FRAMES = 25
"""A file that yields this many unreadable frames in a row is treated as ended."""


class SourceError(Exception):
    """A source that cannot be used at all (missing file, nothing decodable); the message is one line."""


@dataclass(frozen=True)
class SourceFrame:
    index: int
    t: float
    """Seconds from the source: file position, or wall-clock seconds since the source started."""
    wall: datetime
    image: np.ndarray


def source_kind(uri: str) -> str:
    """'camera' for a device index such as '0', 'stream' for a network URL, else 'file'."""
    if uri.isdigit():
        return "camera"
    if uri.lower().startswith(STREAM_SCHEMES):
        return "stream"
    return "file"


def _is_valid(image: np.ndarray | None, shape: tuple[int, ...] | None) -> bool:
    if image is None or image.ndim != 3 or image.size == 0:
        return False
    return shape is None or image.shape == shape


class VideoSource:
    """Iterate over the frames of one source. Files end; live sources reconnect with backoff when they drop."""

    def __init__(
        self,
        uri: str,
        *,
        realtime: bool = False,
        reconnect_initial_s: float = 1.0,
        reconnect_max_s: float = 30.0,
        max_reconnects: int | None = None,
        start_wall: datetime | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.uri = uri
        self.kind = source_kind(uri)
        self.realtime = realtime
        self.reconnect_initial_s = reconnect_initial_s
        self.reconnect_max_s = reconnect_max_s
        self.max_reconnects = max_reconnects
        self.start_wall = start_wall or datetime.now(UTC)
        self.reconnects = 0
        self.skipped_frames = 0
        self._sleep = sleep
        self._clock = clock
        if self.kind == "file":
            path = Path(uri)
            if not path.is_file():
                raise SourceError(f"video file not found: {uri}")
            try:
                path.open("rb").close()
            except OSError as exc:
                raise SourceError(f"cannot read video file {uri}: {exc.strerror or exc}") from None
        self._cap = self._open()
        if self._cap is None and self.kind == "file":
            raise SourceError(f"cannot open video file {uri}: OpenCV found no decodable video in it")
        if self._cap is None:
            # A camera box may boot before its camera: keep trying with backoff instead of giving up.
            log.warning("%s: cannot connect yet; will retry with backoff", uri)
        cap = self._cap
        fps = cap.get(cv2.CAP_PROP_FPS) if cap is not None else 0.0
        self.fps = fps if 0.5 <= fps <= 240 else 0.0
        self.width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) if cap is not None else 0
        self.height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) if cap is not None else 0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap is not None and self.kind == "file" else 0
        self.frame_count = count if count > 0 else None

    def _open(self) -> cv2.VideoCapture | None:
        target: str | int = int(self.uri) if self.kind == "camera" else self.uri
        cap = cv2.VideoCapture(target)
        if not cap.isOpened():
            cap.release()
            return None
        return cap

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[SourceFrame]:
        return self._file_frames() if self.kind == "file" else self._live_frames()

    def _file_frames(self) -> Iterator[SourceFrame]:
        cap = self._cap
        assert cap is not None
        index = -1
        bad_run = 0
        shape: tuple[int, ...] | None = None
        last_t = -1.0
        paced_from: float | None = None
        while True:
            grabbed = cap.grab()
            index += 1
            if not grabbed:
                # A frame that cannot be demuxed before the known end is a corrupt one, not the end.
                if self.frame_count is not None and index < self.frame_count and bad_run < MAX_CONSECUTIVE_BAD_FRAMES:
                    bad_run += 1
                    self._skip(index, "cannot be read")
                    continue
                return
            ok, image = cap.retrieve()
            if not ok or not _is_valid(image, shape):
                bad_run += 1
                if bad_run >= MAX_CONSECUTIVE_BAD_FRAMES:
                    log.warning("%s: %d unreadable frames in a row at frame %d; stopping", self.uri, bad_run, index)
                    return
                self._skip(index, "did not decode")
                continue
            bad_run = 0
            shape = image.shape
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if t < last_t or (t == last_t and index > 0):
                # Some containers report no position; then the nominal frame rate is the only clock left.
                t = index / self.fps if self.fps else last_t + 1 / 25
            last_t = t
            if self.realtime:
                paced_from = self._pace(t, paced_from)
            yield SourceFrame(index, t, self.start_wall + timedelta(seconds=t), image)

    def _pace(self, t: float, paced_from: float | None) -> float:
        now = self._clock()
        if paced_from is None:
            return now - t
        ahead = paced_from + t - now
        if ahead > 0:
            self._sleep(ahead)
        return paced_from

    def _skip(self, index: int, why: str) -> None:
        self.skipped_frames += 1
        log.warning("%s: frame %d %s; skipped", self.uri, index, why)

    def _live_frames(self) -> Iterator[SourceFrame]:
        started = time.monotonic()
        index = 0
        backoff = self.reconnect_initial_s
        shape: tuple[int, ...] | None = None
        while True:
            ok, image = (False, None) if self._cap is None else self._cap.read()
            if ok and _is_valid(image, shape):
                shape = image.shape
                backoff = self.reconnect_initial_s
                t = time.monotonic() - started
                yield SourceFrame(index, t, datetime.now(UTC), image)
                index += 1
                continue
            if ok:
                self._skip(index, "did not decode")
                index += 1
                continue
            if self.max_reconnects is not None and self.reconnects >= self.max_reconnects:
                log.warning("%s: giving up after %d reconnect attempts", self.uri, self.reconnects)
                return
            self.reconnects += 1
            log.warning("%s: stream down; reconnecting in %.1f s (attempt %d)", self.uri, backoff, self.reconnects)
            self.close()
            self._sleep(backoff)
            backoff = min(backoff * 2, self.reconnect_max_s)
            self._cap = self._open()
            shape = None
