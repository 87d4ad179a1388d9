"""Frame sources: timestamps from the source, corrupt frames skipped, dropped streams reconnected with backoff."""

import functools
import http.server
import itertools
import logging
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.source import SourceError, VideoSource, source_kind
from tests.conftest import shared_file


def write_clip(path: Path, frames: int = 20, fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (160, 120))
    for i in range(frames):
        image = np.full((120, 160, 3), i * 10, np.uint8)
        cv2.putText(image, str(i), (50, 70), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 2)
        writer.write(image)
    writer.release()
    return path


def corrupt_frame(path: Path, which: int) -> Path:
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]
    data[starts[which] : starts[which] + 400] = bytes(400)
    bad = path.with_name("corrupt.avi")
    bad.write_bytes(data)
    return bad


def test_kinds():
    assert source_kind("0") == "camera"
    assert source_kind("rtsp://cam/1") == source_kind("https://x/y.mjpg") == "stream"
    assert source_kind("clip.mp4") == "file"


def test_file_timestamps_come_from_the_file_position():
    clip = shared_file("media", "jay_intersection_crosswalk.mp4")
    with VideoSource(str(clip)) as source:
        frames = [(f.index, f.t, f.wall) for _, f in zip(range(40), source, strict=False)]
        fps = source.fps
    assert fps == pytest.approx(11.03, abs=0.01)
    assert [i for i, _, _ in frames] == list(range(40))
    ts = [t for _, t, _ in frames]
    assert ts[0] == 0.0 and all(b > a for a, b in itertools.pairwise(ts))
    assert ts[39] == pytest.approx(39 / fps, abs=0.05)
    assert (frames[39][2] - frames[0][2]).total_seconds() == pytest.approx(ts[39], abs=1e-3)


def test_corrupt_frame_is_skipped_with_a_warning_and_keeps_its_index_and_time(tmp_path, caplog):
    bad = corrupt_frame(write_clip(tmp_path / "clip.avi"), 7)
    with caplog.at_level(logging.WARNING), VideoSource(str(bad)) as source:
        frames = list(source)
    assert [f.index for f in frames] == [i for i in range(20) if i != 7]
    assert frames[7].index == 8 and frames[7].t == pytest.approx(0.8)
    assert source.skipped_frames == 1
    assert "frame 7" in caplog.text and "skipped" in caplog.text


def test_missing_and_undecodable_files_are_one_line_errors(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        VideoSource(str(tmp_path / "nope.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_text("this is not a video\n")
    with pytest.raises(SourceError, match="no decodable video"):
        VideoSource(str(junk))


def test_realtime_paces_to_the_source_clock(tmp_path):
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    clip = str(write_clip(tmp_path / "clip.avi"))
    with VideoSource(clip, realtime=True, sleep=sleep, clock=lambda: now[0]) as source:
        frames = list(source)
    assert len(frames) == 20
    # The (fake) clock does not move while decoding, so every frame waits out its 0.1 s of video.
    assert sleeps == pytest.approx([0.1] * 19)


def test_dropped_stream_reconnects_with_backoff(tmp_path, caplog):
    write_clip(tmp_path / "live.avi")
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            if len(requests) > 2:  # the camera goes away after two connections
                self.send_error(503)
                return
            super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sleeps: list[float] = []
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/live.avi"
        with (
            caplog.at_level(logging.WARNING),
            VideoSource(
                url, reconnect_initial_s=0.5, reconnect_max_s=1.5, max_reconnects=4, sleep=sleeps.append
            ) as source,
        ):
            frames = list(source)
    finally:
        server.shutdown()
    assert len(frames) == 40, "both connections delivered their frames"
    assert [f.index for f in frames] == list(range(40)), "indices continue across a reconnect"
    ts = [f.t for f in frames]
    assert all(b >= a for a, b in itertools.pairwise(ts)), "live time is the wall clock"
    # 0.5 after the first drop (then frames flowed again, so the backoff reset), then 0.5, 1.0, 1.5 (capped).
    assert sleeps == [0.5, 0.5, 1.0, 1.5]
    assert source.reconnects == 4
    assert "reconnecting" in caplog.text


def test_a_live_source_drops_its_oldest_frames_when_the_pipeline_falls_behind():
    """A camera delivering 200 frames as fast as it can to a pipeline that takes 5 ms a frame: what waits stays
    bounded (the last second, at most LIVE_BUFFER_FRAMES), the frames that arrive keep their order and index."""
    import numpy as np

    from edge.source import LIVE_BUFFER_FRAMES, LiveReader

    class Camera:
        """Stands in for cv2.VideoCapture on a camera that never waits for its reader."""

        def __init__(self) -> None:
            self.sent = 0

        def read(self) -> tuple[bool, np.ndarray | None]:
            if self.sent == 200:
                return False, None
            self.sent += 1
            return True, np.full((8, 8, 3), self.sent % 255, np.uint8)

        def get(self, _prop: int) -> float:
            return 0.0  # a camera without timestamps: its frames are timed on arrival

        def release(self) -> None:
            pass

    import time

    reader = LiveReader(Camera(), time.monotonic(), 0, lambda index, why: None)  # type: ignore[arg-type]
    got = []
    for frame in reader.frames():
        got.append(frame.index)
        time.sleep(0.005)
    assert reader.dropped > 0 and len(got) + reader.dropped == 200
    assert got == sorted(got) and got[-1] == 199, "the newest frame is never the one dropped"
    assert len(got) <= LIVE_BUFFER_FRAMES + 5
