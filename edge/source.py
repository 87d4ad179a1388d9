"""Where frames come from: video files, RTSP/HTTP streams and local cameras, all through OpenCV.

Every frame carries its index in the source and a timestamp from the source itself (the file position
for files, the wall clock for live sources), so rules hold at any frame rate (DESIGN.md section 3)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import cv2
import numpy as np

from edge.stream_clock import StreamClock
from models.errors import InputError

log = logging.getLogger(__name__)

STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://")
LIVE_BUFFER_S = 1.0
"""Live frames older than this that the pipeline has not taken yet are dropped."""
LIVE_BUFFER_FRAMES = 32
"""And never more than this many wait (memory: 32 frames of 1080p are 200 MB)."""
FFMPEG_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
MAX_CONSECUTIVE_BAD_FRAMES = 25
"""A file that yields this many unreadable frames in a row is treated as ended."""


class SourceError(InputError):
    """A source that cannot be used at all (missing file, nothing decodable); the message is one line; exit 4."""

    exit_code = 4


@dataclass(frozen=True)
class SourceFrame:
    index: int
    t: float
    """Seconds from the source: file position, or for a live source its stream's clock since the source started
    (edge.stream_clock)."""
    wall: datetime
    image: np.ndarray


def source_kind(uri: str) -> str:
    """'camera' for a device index such as '0', 'stream' for a network URL, else 'file'."""
    if uri.isdigit():
        return "camera"
    if uri.lower().startswith(STREAM_SCHEMES):
        return "stream"
    return "file"


def shown_uri(uri: str) -> str:
    """The URI without its password (rtsp://user:pass@host/... reads rtsp://user:***@host/...): logs and
    heartbeats leave the box."""
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


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
        open_timeout_s: float = 20.0,
        read_timeout_s: float = 10.0,
        rtsp_transport: str = "tcp",
        ffmpeg_options: Mapping[str, str] | None = None,
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
        self.open_timeout_s = open_timeout_s
        self.read_timeout_s = read_timeout_s
        self.ffmpeg_options = dict(ffmpeg_options or {})
        if uri.lower().startswith(("rtsp://", "rtsps://")):
            self.ffmpeg_options["rtsp_transport"] = rtsp_transport
        self.name = shown_uri(uri)
        """The URI as logs and heartbeats show it: without a password."""
        self.problem: str | None = None
        """Why frames do not flow now (a live source reconnecting), for the heartbeat; None while they do."""
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
            log.warning("%s: cannot connect yet; will retry with backoff", self.name)
        cap = self._cap
        fps = cap.get(cv2.CAP_PROP_FPS) if cap is not None else 0.0
        self.fps = fps if 0.5 <= fps <= 240 else 0.0
        self.width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) if cap is not None else 0
        self.height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) if cap is not None else 0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap is not None and self.kind == "file" else 0
        self.frame_count = count if count > 0 else None

    def _open(self) -> cv2.VideoCapture | None:
        if self.kind == "camera":
            cap = cv2.VideoCapture(int(self.uri))
        elif self.kind == "file":
            cap = cv2.VideoCapture(self.uri)
        else:
            cap = self._open_stream()
        if not cap.isOpened():
            cap.release()
            return None
        return cap

    def _open_stream(self) -> cv2.VideoCapture:
        """FFmpeg with this camera's input options and timeouts. OpenCV reads the options from the environment
        when it opens, so they are set just for the open (one camera per process, opened on one thread)."""
        options = "|".join(f"{name};{value}" for name, value in self.ffmpeg_options.items())
        before = os.environ.get(FFMPEG_OPTIONS_ENV)
        os.environ[FFMPEG_OPTIONS_ENV] = options
        try:
            # OpenCV's own read timeout ends a read that hangs in FFmpeg, so a reader thread never blocks for ever.
            timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout_s * 1000)]
            timeouts += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout_s * 1000)]
            return cv2.VideoCapture(self.uri, cv2.CAP_FFMPEG, timeouts)
        finally:
            if before is None:
                del os.environ[FFMPEG_OPTIONS_ENV]
            else:
                os.environ[FFMPEG_OPTIONS_ENV] = before

    def health(self) -> dict[str, str]:
        """The heartbeat's share: what is wrong with the source while its frames do not flow."""
        problem = self.problem
        return {"last_error": problem} if problem else {}

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
        log.warning("%s: frame %d %s; skipped", self.name, index, why)

    def _live_frames(self) -> Iterator[SourceFrame]:
        started = time.monotonic()
        index, last_t = 0, 0.0
        backoff = self.reconnect_initial_s
        while True:
            why = self._no_connection()
            cap, self._cap = self._cap, None  # the reader releases it, once its last read has returned
            if cap is not None:
                reader = LiveReader(
                    cap, started, index, self._skip, self.read_timeout_s, self._frame_size(cap), not_before=last_t
                )
                for frame in reader.frames():
                    if self.problem is not None:
                        log.warning("%s: frames flow again", self.name)
                        self.problem = None
                    yield frame
                index, last_t = reader.next_index, reader.last_t
                self.dropped_frames += reader.dropped
                if reader.delivered:
                    backoff = self.reconnect_initial_s
                why = f"no frame for {self.read_timeout_s:g} s" if reader.stalled else "stream ended"
            if self.max_reconnects is not None and self.reconnects >= self.max_reconnects:
                log.warning("%s: giving up after %d reconnect attempts", self.name, self.reconnects)
                return
            self.reconnects += 1
            self.problem = f"{why}; reconnecting in {backoff:.1f} s (attempt {self.reconnects})"
            log.warning("%s: %s", self.name, self.problem)
            self._sleep(backoff)
            backoff = min(backoff * 2, self.reconnect_max_s)
            self._cap = self._open()

    def _no_connection(self) -> str:
        """Over UDP the stream's packets come on ports the camera picks, so a firewall or NAT that drops them makes
        the open time out exactly as a dead camera does: say how to tell the two apart."""
        if self.ffmpeg_options.get("rtsp_transport") == "udp":
            return "cannot connect over UDP (if the camera answers over TCP, set source.rtsp_transport: tcp)"
        return "cannot connect"

    def _frame_size(self, cap: cv2.VideoCapture) -> tuple[int, int] | None:
        """The size the pipeline was built for, when this connection delivers another one (a camera whose
        firmware changed its resolution): the reader scales to it. Zones are normalised to the frame, so they
        still fit; the log says so once per connection."""
        width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if not self.width or not self.height:
            self.width, self.height = width, height
            return None
        if (width, height) == (self.width, self.height) or not width or not height:
            return None
        log.warning(
            "%s: the stream is now %dx%d, was %dx%d: frames are scaled to %dx%d (zones are fractions of the frame, "
            "so they still fit; restart the camera to work at the new size)",
            self.name,
            width,
            height,
            self.width,
            self.height,
            self.width,
            self.height,
        )
        return self.width, self.height


class LiveReader:
    """Reads one connection of a live source on its own thread, so the camera's frames keep being taken off the
    stream while the pipeline works. At most `LIVE_BUFFER_S` (and `LIVE_BUFFER_FRAMES`) of frames wait: when the
    pipeline falls behind, the oldest are dropped, so the box never queues without bound and what it
    processes stays close to now. The detector then runs by time (`Detector.start(live=True)`).

    A connection that sends no frame for `read_timeout_s` ends (`stalled`), open or not: a camera whose encoder
    hangs keeps its socket open and would otherwise hold the camera for ever. The thread owns the capture and
    releases it when its last read returns (OpenCV's read timeout ends a read that hangs), so the next
    connection never waits for a read that is stuck."""

    def __init__(
        self,
        cap: cv2.VideoCapture,
        started: float,
        first_index: int,
        skip: Callable[[int, str], None],
        read_timeout_s: float = 10.0,
        scale_to: tuple[int, int] | None = None,
        not_before: float = 0.0,
    ) -> None:
        self.next_index = first_index
        self.dropped = 0
        self.delivered = False
        self.stalled = False
        self.read_timeout_s = read_timeout_s
        self._cap = cap
        self._started = started
        self._skip = skip
        self._scale_to = scale_to
        self._stream_clock = StreamClock(not_before)
        self.last_t = not_before
        self._waiting: deque[tuple[float, SourceFrame]] = deque()
        """Frames with their arrival: what counts as stale is how long a frame waited here, not its stream time (the
        burst FFmpeg probed before the first read is seconds of stream that arrived at once)."""
        self._ready = threading.Condition()
        self._ended = False
        self._last_frame = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="live-reader", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        shape: tuple[int, ...] | None = None
        try:
            while not self._stop.is_set():
                asked = time.monotonic()
                ok, image = self._cap.read()
                if not ok:
                    break
                if time.monotonic() - asked >= self.read_timeout_s:
                    # What a read returns after OpenCV's timeout ended it is a frame the decoder still held
                    # (one per timeout), not a sign of life.
                    self.stalled = True
                    break
                if _is_valid(image, shape):
                    shape = image.shape
                    self._put(image)
                else:
                    self._skip(self.next_index, "did not decode")
                self.next_index += 1
        finally:
            self._cap.release()
            with self._ready:
                self._ended = True
                self._ready.notify()

    def _put(self, image: np.ndarray) -> None:
        if self._scale_to is not None:
            image = cv2.resize(image, self._scale_to, interpolation=cv2.INTER_AREA)
        now = time.monotonic()
        self.last_t = self._stream_clock.time_of(self._cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0, now - self._started)
        frame = SourceFrame(self.next_index, self.last_t, datetime.now(UTC), image)
        with self._ready:
            self._last_frame = now
            self._waiting.append((now, frame))
            self._drop_stale(now)
            self._ready.notify()

    def _drop_stale(self, now: float) -> None:
        waiting = self._waiting
        while len(waiting) > LIVE_BUFFER_FRAMES or (len(waiting) > 1 and now - waiting[0][0] > LIVE_BUFFER_S):
            waiting.popleft()
            self.dropped += 1
            if self.dropped in (1, 10) or self.dropped % 100 == 0:
                log.warning("live source: the pipeline falls behind; %d frames dropped so far", self.dropped)

    def frames(self) -> Iterator[SourceFrame]:
        """The frames in order until the connection ends or stalls (frames dropped in between leave gaps in the
        indices)."""
        try:
            while True:
                with self._ready:
                    while not self._waiting and not self._ended:
                        left = self._last_frame + self.read_timeout_s - time.monotonic()
                        if left <= 0:
                            self.stalled = True
                            return
                        self._ready.wait(left)
                    if not self._waiting:
                        return
                    _, frame = self._waiting.popleft()
                self.delivered = True
                yield frame
        finally:
            self._stop.set()
            # A stalled reader may still be inside a read: it ends on its own, there is no need to wait for it.
            self._thread.join(timeout=0.0 if self.stalled else 5.0)
