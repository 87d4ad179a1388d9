"""`edge run` on the live stream of a shared clip finds the events `edge replay --realtime` finds in the file.

Tolerance: the same number of events, each starting and ending within TOLERANCE_S (one second) of its replayed
twin. Live, the detector runs by the clock rather than on every Nth frame, so its samples fall up to one detector
interval away from the replay's, and the rules' time hysteresis moves an edge of an event by as much again; a
pipeline that falls behind (a machine busy with other work) drops a few frames more. One second covers these and
is far below the length of a crossing (3-6 s here), so a split or a missed crossing still fails. The stream starts
with LEAD_IN_S of grey frames, on which the edge connects, probes the stream and builds its model, as on a camera
that was streaming long before: events are compared in the clip's own frames.

The clip is the forecourt (two people walking together over a forecourt drawn as roadway, 30 fps, portrait):
replayed from any of its first seven frames it gives the same two events, so a live stream, whose frames fall at
any phase, is held to them. The intersection clip is not used: its replay's own events change with which frames
the detector looks at (riders whose bicycles the detector misses, 22-pixel walkers; docs/deploy.md, "Live against
replay"), an accuracy problem of the rules and the tracker rather than of the live path.

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

from edge.source import VideoSource
from tests.conftest import ROOT, shared_file
from tests.rtsp_camera import RtspCamera, check_gstreamer

CLIP = "litter_pavement_drop_walkaway.mp4"
TOLERANCE_S = 1.0
LEAD_IN_S = 5.0
"""Grey before the clip: the edge connects, probes the stream and builds its model at the stream's input on it, as
it would on a camera that was streaming long before the footage of interest."""


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
def test_live_stream_finds_the_replayed_events(tmp_path, model_path):
    check_gstreamer()
    clip = shared_file("media", CLIP)
    config = yaml.safe_load((ROOT / "examples" / "jay_forecourt_as_roadway.yaml").read_text())
    config["detector"]["model"] = str(model_path)
    (tmp_path / "file.yaml").write_text(yaml.safe_dump({**config, "source": {"uri": str(clip)}}))
    replay = curbwatch(
        tmp_path, "replay", str(clip), "--config", "file.yaml", "--realtime", "--events-out", "replayed.jsonl"
    )
    assert replay.wait(timeout=180) == 0, (tmp_path / "replay.log").read_text()[-2000:]

    with VideoSource(str(clip)) as file:
        fps = file.fps
    lead_in, tolerance = round(LEAD_IN_S * fps), round(TOLERANCE_S * fps)
    camera = RtspCamera(clip, loop=False, lead_in=lead_in)
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
    replayed, live = events(tmp_path / "replayed.jsonl"), events(tmp_path / "live.jsonl", lead_in)
    # The summary lines: how many frames each run looked at, and how fast.
    ran = {name: (tmp_path / f"{name}.out").read_text().strip() for name in ("replay", "run")}
    assert replayed, "the clip holds a jaywalking event"
    assert len(live) == len(replayed), (live, replayed, ran, os.getloadavg(), log.read_text()[-2000:])
    for (kind, start, end), (kind_live, start_live, end_live) in zip(replayed, live, strict=True):
        assert kind_live == kind
        assert abs(start_live - start) <= tolerance and abs(end_live - end) <= tolerance, (
            live,
            replayed,
            ran,
        )
