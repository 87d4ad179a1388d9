"""`curbwatch edge replay` end to end on real footage with the real detector, and every bad input a user
can hand it. One full replay is shared by the tests that read its output."""

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import cv2
import pytest

from edge.detector import Detector
from models.config.detector import DetectorConfig
from models.infraction import InfractionMessage
from tests.conftest import ROOT, run_cli, shared_file

pytestmark = pytest.mark.slow

CONFIG = "examples/jay_intersection_crosswalk.yaml"
TFLITE_SHA = "be21c7fcabb121b26b75a33d6662556e364d1881079b945e0c1425d46595e9e1"


def write_config(path: Path, **changes: str) -> Path:
    text = (ROOT / CONFIG).read_text()
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def replay(tmp_path_factory, model_path):
    out = tmp_path_factory.mktemp("replay")
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    result = run_cli(
        "edge", "replay", str(video), "--config", CONFIG,
        "--events-out", str(out / "events.jsonl"),
        "--evidence-dir", str(out / "evidence"),
        "--annotate", str(out / "annotated.avi"),
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    lines = (out / "events.jsonl").read_text().splitlines()
    return out, result, [json.loads(line) for line in lines]


def test_replay_reports_a_summary_and_writes_valid_messages(replay):
    _, result, payloads = replay
    summary = result.stdout.strip().splitlines()[-1]
    assert summary.startswith("143 frames") and "frames/s" in summary and "jaywalking" in summary
    assert payloads, "the mid-block crossing in the first seconds raises at least one event"
    for payload in payloads:
        message = InfractionMessage.model_validate(payload)
        assert message.to_payload() == payload, "each line is exactly the MQTT payload"
        assert message.type == "jaywalking" and message.site == "campus-ave" and message.camera_id == "intersection-01"
        assert message.redacted is True
        # Detection regions run the pinned weights at inputs of several shapes: the event names the weights.
        assert message.model.name == "yolov8n_int8.tflite@regions" and message.model.sha256 == TFLITE_SHA
        assert 0 <= message.frame_start <= message.frame_end <= 142
        span = (message.ended_at - message.started_at).total_seconds()
        assert span == pytest.approx((message.frame_end - message.frame_start) / 11.028, abs=0.2)
        assert message.rule.name == "jaywalking" and message.rule.thresholds and message.rule.measurements
        assert message.track.trajectory and message.zone == "avenue"
    assert len({p["event_id"] for p in payloads}) == len(payloads)


def test_every_event_has_keyframes_and_a_browser_clip_named_by_sha256(replay):
    out, _, payloads = replay
    for payload in payloads:
        refs = payload["evidence"]
        assert 3 <= sum(r["role"] == "keyframe" for r in refs) <= 5
        assert [r["media_type"] for r in refs if r["role"] == "clip"] == ["video/webm"]
        for ref in refs:
            suffix = ".jpg" if ref["media_type"] == "image/jpeg" else ".webm"
            data = (out / "evidence" / (ref["sha256"] + suffix)).read_bytes()
            assert hashlib.sha256(data).hexdigest() == ref["sha256"]


def test_no_person_is_detectable_in_any_evidence(replay, model_path):
    """The privacy check: the same detector, at the default confidence, finds nobody in redacted evidence."""
    out, _, _ = replay
    detector = Detector(DetectorConfig(model=str(model_path)))
    images = [cv2.imread(str(p)) for p in sorted((out / "evidence").glob("*.jpg"))]
    for clip in sorted((out / "evidence").glob("*.webm")):
        capture = cv2.VideoCapture(str(clip))
        frames = []
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
        images += frames[::4]
    assert len(images) >= 8
    found = [(i, d) for i, image in enumerate(images) for d in detector.detect_only(image) if d.cls == "person"]
    assert found == []


def test_annotated_video_has_every_frame(replay):
    out, _, _ = replay
    capture = cv2.VideoCapture(str(out / "annotated.avi"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 143
    assert (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (640, 352)


def test_progress_into_a_pipe_is_plain_lines_not_a_redrawn_bar():
    """journald and the demo's log files get readable lines, not thousands of carriage-return redraws."""
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    result = subprocess.run(
        [sys.executable, "-m", "curbwatch", "edge", "replay", str(video), "--config", CONFIG, "--max-frames", "40"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert b"\r" not in result.stderr
    progress = [line for line in result.stderr.decode().splitlines() if " edge.progress: " in line]
    assert progress and "jay_intersection_crosswalk.mp4: 40/40 frames (100%) in " in progress[-1]


def one_line_error(result, code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr[-1500:])
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr[-1500:]
    for needle in needles:
        assert needle in errors[0]


def test_missing_and_unreadable_videos(tmp_path, model_path):
    one_line_error(run_cli("edge", "replay", str(tmp_path / "nope.mp4"), "--config", CONFIG), 4, "not found")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 4096)
    one_line_error(run_cli("edge", "replay", str(junk), "--config", CONFIG), 4, "no decodable video")


def test_wrong_model_sha256_is_refused_before_loading(tmp_path):
    config = write_config(tmp_path / "cam.yaml", **{TFLITE_SHA: "f" * 64})
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    one_line_error(run_cli("edge", "replay", str(video), "--config", str(config)), 5, TFLITE_SHA, "f" * 64)


def test_model_without_a_person_class_is_refused(tmp_path):
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    result = run_cli("edge", "replay", str(video), "--config", CONFIG, "--model", "yolov8n.yaml")
    one_line_error(result, 5, "no 'person' class")


def test_publishing_without_a_signing_key_is_refused_before_any_work():
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    result = run_cli("edge", "replay", str(video), "--config", CONFIG, "--publish")
    one_line_error(result, 1, "has no signing.key", "curbwatch keys new intersection-01")


def test_corrupt_frame_and_empty_zone_are_warnings_not_failures(tmp_path):
    from tests.test_edge_source import corrupt_frame, write_clip

    bad = corrupt_frame(write_clip(tmp_path / "clip.avi"), 5)
    config = write_config(
        tmp_path / "cam.yaml",
        **{"[[0.12, 0.37], [0.45, 0.40], [0.62, 0.47], [0.78, 0.52], [0.60, 0.60], [0.28, 0.72], [0.18, 0.74]]":
           "[[0.5, 0.5], [0.51, 0.5], [0.5, 0.51]]"},
    )  # fmt: skip
    result = run_cli("edge", "replay", str(bad), "--config", str(config))
    assert result.returncode == 0, result.stderr[-1500:]
    assert "frame 5" in result.stderr and "skipped" in result.stderr
    assert "zone 'avenue' covers" in result.stderr and "no roadway zone" in result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("19 frames")


def test_redaction_off_is_warned_and_marked_on_every_event(tmp_path):
    config = write_config(tmp_path / "cam.yaml", **{"rules:\n": "redaction:\n  mode: 'off'\nrules:\n"})
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    events = tmp_path / "events.jsonl"
    result = run_cli(
        "edge", "replay", str(video), "--config", str(config), "--events-out", str(events), "--max-frames", "60"
    )
    assert result.returncode == 0, result.stderr[-1500:]
    assert "redaction is OFF" in result.stderr
    payloads = [json.loads(line) for line in events.read_text().splitlines()]
    assert payloads and all(p["redacted"] is False for p in payloads)


def test_exported_onnx_runs_through_the_same_detector(tmp_path):
    result = run_cli(
        "model", "export", "--model", "yolov8n.yaml", "--format", "onnx", "--imgsz", "320",
        "--output-dir", str(tmp_path), timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-1500:]
    path_line, sha_line = result.stdout.strip().splitlines()[-2:]
    exported = Path(path_line)
    assert exported.parent == tmp_path and exported.suffix == ".onnx"
    assert sha_line == "sha256 " + hashlib.sha256(exported.read_bytes()).hexdigest()
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    config = write_config(tmp_path / "cam.yaml", **{"  sha256: " + TFLITE_SHA: "  imgsz: 320"})
    replay = run_cli(
        "edge", "replay", str(video), "--config", str(config), "--model", str(exported), "--max-frames", "5"
    )
    assert replay.returncode == 0, replay.stderr[-1500:]
    assert replay.stdout.strip().splitlines()[-1].startswith("5 frames")


def test_bench_prints_rate_stages_and_the_real_time_ratio():
    result = run_cli("bench", "edge", "--config", CONFIG, "--max-frames", "20", "--stride", "2", timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    out = result.stdout
    assert "stride 2" in out and "20 frames of 640x352 at 11.03 fps" in out
    assert "x real time" in out
    for stage in ("decode", "detect", "track", "rules", "redact", "encode"):
        assert f"{stage} " in out


def test_eval_scores_a_labelled_clip():
    result = run_cli("eval", "tests/labels/jay_intersection_crosswalk.yaml", timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("../shared/media/jay_intersection_crosswalk.mp4: predicted [jaywalking ")
    assert "labelled [jaywalking 0-68, jaywalking 41-92]" in lines[0]
    header, *rows = lines[1:]
    assert header.split() == ["type", "TP", "FP", "FN", "precision", "recall", "F1"]
    jay = next(row.split() for row in rows if row.startswith("jaywalking"))
    assert int(jay[1]) >= 1, "the clear mid-block crossing at the start is found"


def test_eval_at_several_rates_prints_one_row_per_rate_and_clip_and_the_totals():
    result = run_cli("eval", "tests/labels/jay_intersection_crosswalk.yaml", "--rates", "4,every", timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    rows = [line.split("|")[1:-1] for line in result.stdout.strip().splitlines()]
    assert [cell.strip() for cell in rows[0]] == [
        *("rate", "clip", "type", "TP", "FP", "FN", "precision", "recall", "joined"),
    ]
    mine = [[cell.strip() for cell in row] for row in rows[2:] if row[1].strip() == "jay_intersection_crosswalk"]
    assert [row[0] for row in mine] == ["4/s", "every"]
    assert all(row[2] == "jaywalking" and int(row[3]) >= 1 and row[8] == "0" for row in mine), mine
    totals = [row for row in rows if "all clips" in row[1]]
    assert len(totals) == 4, "jaywalking and littering totals at each rate"
    refused = run_cli("eval", "tests/labels/jay_intersection_crosswalk.yaml", "--rates", "4", "--fps", "6")
    assert refused.returncode == 2 and "--rates" in refused.stderr


def test_edge_run_follows_a_live_stream_through_a_drop(tmp_path):
    import functools
    import http.server
    import threading

    from tests.test_edge_source import write_clip

    write_clip(tmp_path / "live.avi")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/live.avi"
    config = write_config(
        tmp_path / "cam.yaml",
        **{"  uri: ../shared/media/jay_intersection_crosswalk.mp4": f"  uri: {url}\n  reconnect_initial_s: 0.1"},
    )
    try:
        result = run_cli(
            "edge", "run", "--config", str(config), "--evidence-dir", str(tmp_path / "ev"), "--max-frames", "30",
            "--no-publish",
        )  # fmt: skip
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr[-1500:]
    assert "reconnecting in 0.1 s" in result.stderr
    assert result.stdout.strip().splitlines()[-1].startswith("30 frames")


def test_a_broker_url_that_is_not_mqtt_gets_one_line():
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    result = run_cli("edge", "replay", str(video), "--config", CONFIG, "--publish", "--broker", "http://x")
    one_line_error(result, 1, "--broker must start with mqtt:// or mqtts://")


def test_ctrl_c_ends_a_replay_cleanly_with_its_summary(tmp_path, model_path):
    import signal
    import time

    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    replay = subprocess.Popen(
        [sys.executable, "-m", "curbwatch", "edge", "replay", str(video), "--config", CONFIG, "--realtime",
         "--events-out", str(tmp_path / "events.jsonl")],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(6)  # model loaded, frames flowing in real time (the clip lasts 13 s)
        replay.send_signal(signal.SIGINT)
        out, err = replay.communicate(timeout=60)
    finally:
        replay.kill()
    assert replay.returncode == 0, err[-2000:]
    assert "Aborted!" not in err and "Traceback" not in err and "stop requested" in err
    summary = out.strip().splitlines()[-1]
    assert " frames" in summary and not summary.startswith("143 frames"), "it stopped before the clip's end"


def test_a_replay_whose_broker_cannot_be_reached_says_what_was_not_sent(tmp_path, model_path):
    from curbwatch.local_broker import free_port
    from models.signing import generate_keypair

    generate_keypair("intersection-01", tmp_path / "keys")
    outbox = tmp_path / "outbox.db"
    config = tmp_path / "cam.yaml"
    config.write_text(
        (ROOT / CONFIG).read_text()
        + f"signing: {{key: {tmp_path / 'keys' / 'intersection-01.key'}}}\noutbox: {{path: {outbox}}}\n"
    )
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    broker = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens there
    result = run_cli(
        "edge", "replay", str(video), "--config", str(config), "--max-frames", "75",
        "--publish", "--broker", broker, "--evidence-dir", str(tmp_path / "ev"),
    )  # fmt: skip
    assert re.search(r"events: jaywalking [1-9]$", result.stdout.strip()), result.stderr[-2000:]
    assert result.returncode == 3, result.stderr[-2000:]
    with sqlite3.connect(outbox) as db:
        [(left,)] = db.execute("SELECT count(*) FROM outbox").fetchall()
    assert left >= 2, "the event and its evidence wait in the outbox"
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        f"error: {left} messages not sent (cannot reach the broker at {broker}): "
        f"they wait in the outbox {outbox} and are sent at this camera's next start with --publish"
    )
