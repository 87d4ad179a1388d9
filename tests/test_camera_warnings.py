"""Camera health warnings: the frame rate a camera's rules need, the warnings on hand-written heartbeats, and a real
camera whose rules need more frames than the box gives, seen through broker, ingest, API and page."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx
import yaml

from central.console.health import StatusRow, camera_health, span
from central.settings import CameraHealthSettings
from curbwatch.local_broker import LocalBroker
from edge.required_fps import required_fps
from models.config.rules import RulesConfig
from tests.conftest import ROOT, shared_file
from tests.console_support import PASSWORDS, make_central, serve
from tests.transport_kit import Db, make_camera, start_worker, stop, wait_subscribed

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
BEAT = {"uptime_s": 600.0, "fps": 10.0, "queue_depth": 0, "model": "yolov8n_int8.tflite", "required_fps": 3.0}


def rules(**sections: dict) -> RulesConfig:
    return RulesConfig.model_validate(sections)


def test_required_fps_follows_the_shortest_window_and_the_stride():
    assert required_fps(rules()) == 3.0  # defaults: 1 s windows, three samples each
    assert required_fps(rules(), stride=2) == 6.0  # the detector sees every other frame
    assert required_fps(rules(jaywalking={"min_duration_s": 0.5}, littering={"enabled": False})) == 6.0
    slow = rules(jaywalking={"enabled": False}, littering={"min_static_s": 4, "grace_s": 6, "owner_window_s": 5})
    assert required_fps(slow) == 0.75
    assert required_fps(rules(jaywalking={"enabled": False}, littering={"enabled": False})) is None
    zero = rules(jaywalking={"min_duration_s": 0, "exit_grace_s": 2, "id_switch_s": 0}, littering={"enabled": False})
    assert required_fps(zero) == 1.5, "a window of 0 switches its criterion off and needs no frames"


def warnings_of(*rows: StatusRow, limits: CameraHealthSettings | None = None) -> dict[str, tuple[str, ...]]:
    return {h.camera_id: h.warnings for h in camera_health(list(rows), {}, {}, NOW, limits)}


def online(camera: str, seconds_ago: float = 20, **figures: object) -> StatusRow:
    return StatusRow("main-st", camera, "online", NOW - timedelta(seconds=seconds_ago), {**BEAT, **figures})


def test_warnings_name_what_is_wrong_with_each_camera():
    found = warnings_of(
        online("healthy"),
        online("slow", fps=2.4),
        online("backlog", queue_depth=250, oldest_queued_s=3 * 3600 + 60),
        online("quiet", seconds_ago=1800),
        StatusRow("main-st", "gone", "offline", NOW - timedelta(minutes=90), None),
    )
    assert found["healthy"] == ()
    assert found["slow"] == ("runs at 2.4 fps; its rules need 3",)
    assert found["backlog"] == (
        "outbox holds 250 messages (more than 100): are they getting out?",
        "oldest outbox message has waited 3 h 1 min (more than 10 min)",
    )
    assert found["quiet"] == ("no heartbeat for 30 min, yet not reported offline",)
    assert found["gone"] == ("offline for 1 h 30 min",)


def test_warning_thresholds_come_from_the_settings_and_old_heartbeats_still_read():
    limits = CameraHealthSettings(silent_after_s=60, outbox_messages=5, outbox_age_s=30)
    found = warnings_of(
        online("a", seconds_ago=90),
        online("b", queue_depth=6, oldest_queued_s=31),
        online("c", queue_depth=5, oldest_queued_s=30),
        # A heartbeat from an edge older than required_fps and oldest_queued_s: no guessing, no warning.
        StatusRow("main-st", "d", "online", NOW, {"uptime_s": 1.0, "fps": 0.5, "queue_depth": 0, "model": "m"}),
        limits=limits,
    )
    assert found["a"] == ("no heartbeat for 1 min, yet not reported offline",)
    assert len(found["b"]) == 2 and found["c"] == () and found["d"] == ()
    assert (span(59), span(3600), span(2 * 86400 + 3 * 3600)) == ("59 s", "1 h", "2 d 3 h")


def test_a_camera_slower_than_its_rules_need_is_flagged_through_broker_ingest_api_and_page(tmp_path, model_path):
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    with LocalBroker(tmp_path / "broker") as broker, serve(central) as base:
        camera = yaml.safe_load(make_camera(tmp_path, "cam-slow", broker.url).read_text())
        config = yaml.safe_load((ROOT / "examples" / "jay_intersection_crosswalk.yaml").read_text())
        config.update({key: camera[key] for key in ("camera", "mqtt", "signing", "outbox")})
        config["source"] = {"uri": str(shared_file("media", "jay_intersection_crosswalk.mp4")), "realtime": True}
        config["detector"].update(model=str(model_path), stride=2)
        # A 0.05 s hysteresis needs 60 detector runs a second, 120 frames/s at stride 2: no box gives that.
        config["rules"]["jaywalking"] = {"min_duration_s": 0.05}
        (tmp_path / "cam.yaml").write_text(yaml.safe_dump(config))
        worker = start_worker(tmp_path, central.url, broker.url)
        edge = None
        db = Db(central.url)
        try:
            wait_subscribed(tmp_path)
            edge = subprocess.Popen(
                [sys.executable, "-m", "curbwatch", "edge", "run", "--config", "cam.yaml", "--evidence-dir", "ev"],
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stderr=subprocess.DEVNULL,
            )
            client = httpx.Client(base_url=base, timeout=10)
            token = client.post("/api/v1/session", json={"username": "sam", "password": PASSWORDS["sam"]})
            client.headers["Authorization"] = f"Bearer {token.json()['token']}"

            def warnings() -> list[str]:
                cameras = {c["camera_id"]: c for c in client.get("/api/v1/cameras").json()}
                return cameras.get("cam-slow", {}).get("warnings", [])

            assert db.wait_for(lambda _db: any("its rules need 120" in w for w in warnings()), 90)
            [warning] = warnings()
            assert warning.startswith("runs at ") and float(warning.split()[2]) < 120
            page = client.get("/cameras").text
            assert "1</strong> of 1 camera needs attention" in page
            assert '<tr id="camera-site1-cam-slow" class="attention">' in page and warning in page

            edge.send_signal(signal.SIGTERM)
            assert edge.wait(60) == 0
            # The edge's Last Will follows its clean stop: the camera is offline now.
            assert db.wait_for(lambda _db: warnings() and warnings()[0].startswith("offline for"), 30)
        finally:
            if edge is not None and edge.poll() is None:
                edge.kill()
            db.close()
            assert stop(worker) == 0
