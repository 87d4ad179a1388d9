"""Where frames come from: video files, RTSP/HTTP streams and local cameras, all through OpenCV.

Every frame carries its index in the source and a timestamp from the source itself (the file position
for files, the wall clock for live sources), so rules hold at any frame rate (DESIGN.md section 3)."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from models.errors import InputError

log = logging.getLogger(__name__)

STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://")
LIVE_BUFFER_S = 1.0
"""Live frames older than this that the pipeline has not taken yet are dropped."""
LIVE_BUFFER_FRAMES = 32
"""And never more than this many wait (memory: 32 frames of 1080p are 200 MB)."""
MAX_CONSECUTIVE_BAD_FRAMES = 25
"""A file that yields this many unreadable frames in a row is treated as ended."""


class SourceError(InputError):
    """A source that cannot be used at all (missing file, nothing decodable); the message is one line; exit 4."""

    exit_code = 4


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
        self.dropped_frames = 0
        """Live frames dropped unprocessed because the pipeline fell behind (the oldest go first)."""
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
        while True:
            if self._cap is not None:
                reader = LiveReader(self._cap, started, index, self._skip)
                yield from reader.frames()
                index = reader.next_index
                self.dropped_frames += reader.dropped
                if reader.delivered:
                    backoff = self.reconnect_initial_s
            if self.max_reconnects is not None and self.reconnects >= self.max_reconnects:
                log.warning("%s: giving up after %d reconnect attempts", self.uri, self.reconnects)
                return
            self.reconnects += 1
            log.warning("%s: stream down; reconnecting in %.1f s (attempt %d)", self.uri, backoff, self.reconnects)
            self.close()
            self._sleep(backoff)
            backoff = min(backoff * 2, self.reconnect_max_s)
            self._cap = self._open()


class LiveReader:
    """Reads one connection of a live source on its own thread, so the camera's frames keep being taken off the
    stream while the pipeline works. At most `LIVE_BUFFER_S` (and `LIVE_BUFFER_FRAMES`) of frames wait: when the
    pipeline falls behind, the oldest are dropped, so the box never queues without bound and what it
    processes stays close to now. The detector then runs by time (`Detector.start(live=True)`)."""

    def __init__(
        self, cap: cv2.VideoCapture, started: float, first_index: int, skip: Callable[[int, str], None]
    ) -> None:
        self.next_index = first_index
        self.dropped = 0
        self.delivered = False
        self._cap = cap
        self._started = started
        self._skip = skip
        self._waiting: deque[SourceFrame] = deque()
        self._ready = threading.Condition()
        self._ended = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="live-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        shape: tuple[int, ...] | None = None
        while not self._stop.is_set():
            ok, image = self._cap.read()
            if not ok:
                break
            if _is_valid(image, shape):
                shape = image.shape
                frame = SourceFrame(self.next_index, time.monotonic() - self._started, datetime.now(UTC), image)
                with self._ready:
                    self._waiting.append(frame)
                    self._drop_stale(frame.t)
                    self._ready.notify()
            else:
                self._skip(self.next_index, "did not decode")
            self.next_index += 1
        with self._ready:
            self._ended = True
            self._ready.notify()

    def _drop_stale(self, now: float) -> None:
        waiting = self._waiting
        while len(waiting) > LIVE_BUFFER_FRAMES or (len(waiting) > 1 and now - waiting[0].t > LIVE_BUFFER_S):
            waiting.popleft()
            self.dropped += 1
            if self.dropped in (1, 10) or self.dropped % 100 == 0:
                log.warning("live source: the pipeline falls behind; %d frames dropped so far", self.dropped)

    def frames(self) -> Iterator[SourceFrame]:
        """The frames in order until the connection ends (frames dropped in between leave gaps in the indices)."""
        try:
            while True:
                with self._ready:
                    while not self._waiting and not self._ended:
                        self._ready.wait()
                    if not self._waiting:
                        return
                    frame = self._waiting.popleft()
                self.delivered = True
                yield frame
        finally:
            self._stop.set()
            self._thread.join(timeout=5.0)
