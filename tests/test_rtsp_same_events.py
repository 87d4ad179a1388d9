"""`edge run` on the live stream of a shared clip finds the events `edge replay --realtime` finds in the file.

Tolerance: the same number of events, each starting and ending within TOLERANCE_FRAMES of its replayed twin. Live,
the detector runs by the clock rather than on every Nth frame, so its samples fall up to one detector interval
(2 frames at 6 detections a second on this 11 fps clip) away from the replay's, and the rules' time hysteresis
then moves an edge of an event by as much again; a frame dropped by a pipeline that fell behind moves it further.
One second of video (11 frames) covers these and is still far below the gap between two walkers' events."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, shared_file
from tests.rtsp_camera import RtspCamera, check_gstreamer

CLIP = "jay_intersection_crosswalk.mp4"
TOLERANCE_FRAMES = 11


def curbwatch(tmp: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "curbwatch", "edge", *args],
        cwd=tmp,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=(tmp / f"{args[0]}.log").open("w"),
    )


def events(path: Path) -> list[tuple[str, int, int]]:
    messages = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return sorted((m["type"], m["frame_start"], m["frame_end"]) for m in messages)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=False,
    reason="open (issue 25 §2): on a loaded 2-core machine (load 8) the live pipeline fell behind, dropped frames and "
    "split the walker's crossing (live 3 events: 2-30, 30-69, 47-64; replay 1: 1-64)",
)
def test_live_stream_finds_the_replayed_events(tmp_path, model_path):
    check_gstreamer()
    clip = shared_file("media", CLIP)
    config = yaml.safe_load((ROOT / "examples" / "jay_intersection_crosswalk.yaml").read_text())
    config["detector"]["model"] = str(model_path)
    (tmp_path / "file.yaml").write_text(yaml.safe_dump({**config, "source": {"uri": str(clip)}}))
    replay = curbwatch(
        tmp_path, "replay", str(clip), "--config", "file.yaml", "--realtime", "--events-out", "replayed.jsonl"
    )
    assert replay.wait(timeout=180) == 0, (tmp_path / "replay.log").read_text()[-2000:]

    camera = RtspCamera(clip, loop=False)
    try:
        (tmp_path / "live.yaml").write_text(yaml.safe_dump({**config, "source": {"uri": camera.url}}))
        run = curbwatch(tmp_path, "run", "--config", "live.yaml", "--no-publish", "--events-out", "live.jsonl")
        log = tmp_path / "run.log"
        deadline = time.monotonic() + 120
        while "stream ended" not in log.read_text():  # the clip's last frame was read
            assert run.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, log.read_text()[-2000:]
    finally:
        camera.kill()
    replayed, live = events(tmp_path / "replayed.jsonl"), events(tmp_path / "live.jsonl")
    assert replayed, "the clip holds a jaywalking event"
    assert len(live) == len(replayed), (live, replayed, log.read_text()[-2000:])
    for (kind, start, end), (kind_live, start_live, end_live) in zip(replayed, live, strict=True):
        assert kind_live == kind
        assert abs(start_live - start) <= TOLERANCE_FRAMES and abs(end_live - end) <= TOLERANCE_FRAMES, (live, replayed)
