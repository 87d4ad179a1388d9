"""`edge run` on the live stream of a shared clip finds the events `edge replay --realtime` finds in the file.

Tolerance: the same number of events, each starting and ending within TOLERANCE_FRAMES (11, one second of this
11 fps clip) of its replayed twin. Live, the detector runs by the clock rather than on every 2nd frame (4 detections
a second asked, 5.5 given on this clip), so its samples fall up to one detector interval (2 frames) away from the
replay's, and the rules' time hysteresis moves an edge of an event by as much again; a pipeline that falls behind
(a machine busy with other work) drops a few frames more. One second covers these and is far below the length of
a crossing (3-6 s here), so a split or a missed crossing still fails. The stream starts with LEAD_IN_FRAMES grey
frames, on which the edge connects, probes the stream and builds its model, as on a camera that was streaming long
before: events are compared in the clip's own frames.

The failure message says how many frames each run processed, and the machine's load: with far fewer live frames
than replayed ones the box was too busy to keep up, which is a sizing question, not this comparison's."""

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
LEAD_IN_FRAMES = 55
"""Five seconds of grey before the clip: the edge connects, probes the stream and builds its model at the stream's
input on them, as it would on a camera that was streaming long before the footage of interest."""


def curbwatch(tmp: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "curbwatch", "edge", *args],
        cwd=tmp,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=(tmp / f"{args[0]}.out").open("w"),
        stderr=(tmp / f"{args[0]}.log").open("w"),
    )


def events(path: Path, first_frame: int = 0) -> list[tuple[str, int, int]]:
    """(type, first frame, last frame) of each event, frames counted from the stream's `first_frame`."""
    messages = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return sorted((m["type"], m["frame_start"] - first_frame, m["frame_end"] - first_frame) for m in messages)


@pytest.mark.slow
@pytest.mark.xfail(
    strict=False,
    reason="open (issue 25 §2): the replay's own events change with which frames the detector looks at. Replayed from "
    "frame 0 (the detector on even frames) the clip gives 2 events; from frames 1-5 it gives 3 or 4 (the cyclist's "
    "bicycle is found in 2 of 72 detections from frame 0, 0-1 otherwise, so he counts as a walker; the second walker, "
    "along the avenue's edge, enters at frame 34, 13 or 53); detecting every frame, replays from frames 0-3 find 1, "
    "1, 2 and 3. A live stream's frames fall at any phase: live runs that dropped no frame found 3 or 4 events "
    "(docs/deploy.md, 'Live against replay')",
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

    camera = RtspCamera(clip, loop=False, lead_in=LEAD_IN_FRAMES)
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
    replayed, live = events(tmp_path / "replayed.jsonl"), events(tmp_path / "live.jsonl", LEAD_IN_FRAMES)
    # The summary lines: how many frames each run looked at, and how fast.
    ran = {name: (tmp_path / f"{name}.out").read_text().strip() for name in ("replay", "run")}
    assert replayed, "the clip holds a jaywalking event"
    assert len(live) == len(replayed), (live, replayed, ran, os.getloadavg(), log.read_text()[-2000:])
    for (kind, start, end), (kind_live, start_live, end_live) in zip(replayed, live, strict=True):
        assert kind_live == kind
        assert abs(start_live - start) <= TOLERANCE_FRAMES and abs(end_live - end) <= TOLERANCE_FRAMES, (
            live,
            replayed,
            ran,
        )
