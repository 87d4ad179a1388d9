"""`curbwatch edge run` as a camera box runs it: real processes on real footage paced to real time, stopped with
SIGTERM, reloaded with SIGHUP, several cameras under one supervisor, and systemd's notify protocol read from a
real unix datagram socket."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from curbwatch.local_broker import free_port
from edge.lifecycle import Lifecycle
from edge.reload import plan_reload
from edge.sd_notify import Notifier
from edge.supervisor import Supervisor
from models.config.camera import parse_camera_config
from models.signing import generate_keypair
from tests.conftest import ROOT, run_cli, shared_file

EXAMPLE = ROOT / "examples" / "jay_intersection_crosswalk.yaml"


def camera_yaml(folder: Path, camera_id: str, model: Path, **sections: dict) -> Path:
    """The intersection example paced to real time (13 s of video), detector every 2nd frame, paths in `folder`."""
    config = yaml.safe_load(EXAMPLE.read_text())
    config["camera"]["id"] = camera_id
    config["source"] = {"uri": str(shared_file("media", "jay_intersection_crosswalk.mp4")), "realtime": True}
    config["detector"].update(model=str(model), stride=2)
    config["outbox"] = {"path": str(folder / f"outbox-{camera_id}.db")}
    config.update(sections)
    path = folder / f"{camera_id}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


class NotifySocket:
    """What systemd listens on for a Type=notify service: a unix datagram socket named in NOTIFY_SOCKET."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.1)
        self.messages: list[dict[str, str]] = []

    def env(self, watchdog_s: float) -> dict[str, str]:
        return {"NOTIFY_SOCKET": str(self.path), "WATCHDOG_USEC": str(int(watchdog_s * 1_000_000))}

    def poll(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096).decode()
            except TimeoutError:
                return
            self.messages.append(dict(line.split("=", 1) for line in data.splitlines()))

    def frames(self) -> int:
        """The frame counter of the latest STATUS line."""
        self.poll()
        statuses = [m["STATUS"] for m in self.messages if "STATUS" in m]
        return int(statuses[-1].split()[0]) if statuses else 0

    def wait_frames(self, above: int, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while (frames := self.frames()) <= above:
            assert time.monotonic() < deadline, f"frame counter stuck at {frames}"
        return frames

    def saw(self, key: str) -> bool:
        return any(key in message for message in self.messages)

    def close(self) -> None:
        self.poll()
        self.sock.close()


def start_edge(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "curbwatch", "edge", "run", *args],
        cwd=tmp,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=(tmp / "stdout.txt").open("w"),
        stderr=(tmp / "stderr.txt").open("w"),
    )


def wait_log(tmp: Path, text: str, count: int = 1, timeout: float = 60.0) -> str:
    deadline = time.monotonic() + timeout
    while (log := (tmp / "stderr.txt").read_text()).count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} not logged; log ends: {log[-1500:]}"
        time.sleep(0.1)
    return log


def test_sigterm_finishes_events_keeps_the_outbox_and_leaves_no_partial_evidence(tmp_path, model_path):
    generate_keypair("cam-term", tmp_path / "keys")
    offline_broker = f"mqtt://127.0.0.1:{free_port()}"  # nothing listens: every event stays in the outbox
    config = camera_yaml(
        tmp_path,
        "cam-term",
        model_path,
        mqtt={"url": offline_broker, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0},
        signing={"key": str(tmp_path / "keys" / "cam-term.key")},
    )
    notify = NotifySocket(tmp_path / "notify.sock")
    edge = start_edge(tmp_path, "--config", str(config), "--evidence-dir", "ev", env=notify.env(1.0))
    try:
        notify.wait_frames(40)  # the first crossings of the clip are under way
        edge.send_signal(signal.SIGTERM)
        assert edge.wait(60) == 0, (tmp_path / "stderr.txt").read_text()[-2000:]
    finally:
        edge.kill()
        notify.close()

    summary = (tmp_path / "stdout.txt").read_text().strip().splitlines()[-1]
    assert "frames" in summary and "events: jaywalking" in summary, summary
    assert notify.saw("READY") and notify.saw("STOPPING")
    log = (tmp_path / "stderr.txt").read_text()
    assert "stop requested" in log and "Traceback" not in log

    # Events in progress at the signal were finished: each one is in the outbox with all its evidence.
    events = [json.loads(line) for line in (tmp_path / "ev" / "events.jsonl").read_text().splitlines()]
    assert len(events) == int(summary.rsplit("jaywalking ", 1)[1])
    with sqlite3.connect(tmp_path / "outbox-cam-term.db") as db:
        rows = db.execute("SELECT topic, payload FROM outbox ORDER BY seq").fetchall()
    infractions = [json.loads(payload) for topic, payload in rows if topic.endswith("/infraction")]
    assert [m["event_id"] for m in infractions] == [e["event_id"] for e in events]
    evidence_topics = {topic.rsplit("/", 1)[1] for topic, _ in rows if "/evidence/" in topic}
    assert {ref["sha256"] for m in infractions for ref in m["evidence"]} == evidence_topics

    # Every evidence file is complete (its name is its content's sha256) and nothing half-written is left.
    files = [p for p in (tmp_path / "ev").iterdir() if p.name != "events.jsonl"]
    assert files and all(not p.name.startswith(".") and not p.name.endswith(".tmp") for p in files)
    assert all(hashlib.sha256(p.read_bytes()).hexdigest() == p.name.split(".")[0] for p in files)
    assert evidence_topics <= {p.name.split(".")[0] for p in files}


def test_sighup_reloads_zones_without_dropping_the_stream_and_refuses_a_broken_file(tmp_path, model_path):
    config = camera_yaml(tmp_path, "cam-hup", model_path)
    original = config.read_text()
    notify = NotifySocket(tmp_path / "notify.sock")
    edge = start_edge(tmp_path, "--config", str(config), "--no-publish", env=notify.env(0.4))
    try:
        before = notify.wait_frames(10)
        pings = sum("WATCHDOG" in m for m in notify.messages)
        assert pings >= 1, "the watchdog hears from a process whose frames flow"

        changed = yaml.safe_load(original)
        changed["zones"][0]["polygon"][0] = [0.05, 0.37]  # the avenue grows to the left
        config.write_text(yaml.safe_dump(changed))
        edge.send_signal(signal.SIGHUP)
        wait_log(tmp_path, "reloaded config")
        after_reload = notify.wait_frames(before + 5)
        assert notify.saw("RELOADING")

        changed["zones"][0]["kind"] = "motorway"
        config.write_text(yaml.safe_dump(changed))
        edge.send_signal(signal.SIGHUP)
        log = wait_log(tmp_path, "refused: keeping the running config")
        assert "zones[0].kind: 'motorway' is not allowed" in log
        notify.wait_frames(after_reload + 5)  # still running, on the previous config
        assert edge.poll() is None
        assert sum("WATCHDOG" in m for m in notify.messages) > pings
    finally:
        edge.send_signal(signal.SIGTERM)
        code = edge.wait(60)
        notify.close()
    log = (tmp_path / "stderr.txt").read_text()
    assert code == 0, log[-2000:]
    assert "reloaded config" in log and "applied zones" in log
    assert "reconnecting" not in log and "Traceback" not in log
    summary = (tmp_path / "stdout.txt").read_text().strip().splitlines()[-1]
    assert int(summary.split()[0]) > after_reload, summary


def test_several_cameras_run_one_process_each_and_stop_together(tmp_path, model_path):
    cameras = tmp_path / "cameras"
    cameras.mkdir()
    for camera_id in ("cam-a", "cam-b"):
        camera_yaml(cameras, camera_id, model_path)
    broken = camera_yaml(cameras, "cam-broken", model_path)
    broken.write_text(broken.read_text().replace(str(shared_file("media", "jay_intersection_crosswalk.mp4")), "x.mp4"))

    edge = start_edge(tmp_path, "--config", str(cameras), "--no-publish")
    try:
        log = wait_log(tmp_path, "restart 1 in 1 s")  # the broken camera crashed and is restarted, with backoff
        log = wait_log(tmp_path, "camera cam-broken: started", count=2)
        pids = {line.split("camera ")[1].split(":")[0]: int(line.split("pid ")[1].rstrip(")")) for line in
                log.splitlines() if ": started (pid " in line}  # fmt: skip
        children = {camera: pid for camera, pid in pids.items() if camera != "cam-broken"}
        assert set(children) == {"cam-a", "cam-b"}
        for pid in children.values():
            assert f"PPid:\t{edge.pid}" in Path(f"/proc/{pid}/status").read_text()
        wait_log(tmp_path, "camera cam-a: frames flowing")
        wait_log(tmp_path, "camera cam-b: frames flowing")
        edge.send_signal(signal.SIGTERM)
        code = edge.wait(60)
    finally:
        edge.kill()
    log = (tmp_path / "stderr.txt").read_text()
    assert code == 1, "the broken camera's last exit was a failure"
    assert "camera cam-a: ended (exit code 0)" in log and "camera cam-b: ended (exit code 0)" in log
    assert all(not Path(f"/proc/{pid}").exists() for pid in children.values())
    summaries = (tmp_path / "stdout.txt").read_text().splitlines()
    assert sorted(line.split("]")[0] for line in summaries if "frames" in line) == ["[cam-a", "[cam-b"]
    assert (tmp_path / "data" / "evidence-cam-a").is_dir() and (tmp_path / "data" / "evidence-cam-b").is_dir()


def test_two_configs_for_one_camera_are_refused_with_one_line(tmp_path, model_path):
    first = camera_yaml(tmp_path, "cam-same", model_path)
    second = tmp_path / "copy.yaml"
    second.write_text(first.read_text())
    result = run_cli("edge", "run", "--config", str(first), "--config", str(second), "--no-publish", timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: camera id 'cam-same' is in both {first} and {second}: camera ids must differ"
    ]


def test_a_reload_applies_what_can_change_live_and_keeps_the_rest_until_a_restart():
    running = parse_camera_config(yaml.safe_load(EXAMPLE.read_text()))
    data = running.model_dump(mode="json")
    data["zones"][0]["polygon"][0] = [0.05, 0.37]
    data["camera"]["name"] = "Intersection, new mast"
    data["detector"]["stride"] = 3
    data["mqtt"]["url"] = "mqtt://broker.example:1883"
    wanted = parse_camera_config(data)
    plan = plan_reload(running, wanted)
    assert plan.applied == ["zones", "camera.name"] and plan.needs_restart == ["detector", "mqtt"]
    assert plan.config.zones == wanted.zones and plan.config.camera == wanted.camera
    assert (plan.config.detector, plan.config.mqtt) == (running.detector, running.mqtt)

    data["camera"]["id"] = "intersection-99"
    plan = plan_reload(running, parse_camera_config(data))
    assert plan.needs_restart[0] == "camera.id/site" and plan.config.camera == running.camera


STUCK_CAMERA = """
import os, socket, time
address = os.environ["NOTIFY_SOCKET"]
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", "\\0" + address[1:])
time.sleep(120)  # first frame, then nothing: a stream that hangs without an error
"""


def test_the_supervisor_kills_and_restarts_a_camera_whose_frames_stop(tmp_path, caplog):
    upstream = NotifySocket(tmp_path / "notify.sock")
    lifecycle = Lifecycle(Notifier(upstream.env(1.0)))  # systemd's WatchdogSec=1: each child gets 1 s
    supervisor = Supervisor({"stuck": [sys.executable, "-c", STUCK_CAMERA]}, lifecycle)
    stopper = threading.Timer(5.0, lambda: setattr(lifecycle, "stop_requested", True))
    stopper.start()
    with caplog.at_level("INFO", logger="edge.supervisor"):
        supervisor.run()
    stopper.cancel()
    upstream.close()
    assert "camera stuck: frames flowing" in caplog.text
    assert "camera stuck: no frame for 1 s (watchdog); killing it" in caplog.text
    assert "camera stuck: crashed (exit code -9); restart 1 in 1 s" in caplog.text
    assert caplog.text.count("camera stuck: started") >= 2
    # The parent itself stays alive for systemd while it restarts the child.
    assert upstream.saw("READY") and upstream.saw("WATCHDOG") and upstream.saw("STOPPING")
