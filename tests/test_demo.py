"""`curbwatch demo` as a user runs it: a subprocess that starts a broker, central with its console and an edge
replay of a real clip; the console answers, the clip's events reach the review queue through the real broker,
Ctrl-C leaves no process behind, and a rerun keeps the data without a new password."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
import yaml

from curbwatch.demo import _PROGRESS, QueueCounts, queue_line
from curbwatch.local_broker import free_port
from edge.progress import PlainProgress
from tests.conftest import ROOT, run_cli, shared_file

pytestmark = pytest.mark.timeout(600)
CLIP = "jay_intersection_crosswalk.mp4"
# The whole clip (143 frames) holds two jaywalking crossings, and so do its first 60.
FRAMES = "60"


class RunningDemo:
    def __init__(self, data_dir: Path, *args: str) -> None:
        self.http_port = free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        argv = [sys.executable, "-m", "curbwatch", "demo", "--data-dir", str(data_dir)]
        argv += ["--http-port", str(self.http_port), "--mqtt-port", str(free_port()), *args]
        self.stderr = (data_dir.parent / f"demo-stderr-{self.http_port}.log").open("w")
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            start_new_session=True,  # its own process group, as a shell gives a foreground command
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.seen_pids: set[int] = set()

    def _read(self) -> None:
        for line in self.process.stdout:  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = 300) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.seen_pids |= descendants(self.process.pid)
            exited = self.process.poll() is not None
            if exited:
                time.sleep(0.5)  # the last lines may still be on their way through the pipe
            found = re.search(pattern, self.output)
            if found:
                return found
            assert not exited, f"the demo exited {self.process.returncode}:\n{self.output}"
            time.sleep(0.2)
        raise AssertionError(f"no {pattern!r} within {timeout} s:\n{self.output}")

    def interrupt(self) -> int:
        """Ctrl-C, as a terminal sends it: SIGINT to the whole foreground process group; returns the exit code."""
        self.seen_pids |= descendants(self.process.pid)
        os.killpg(self.process.pid, signal.SIGINT)
        code = self.process.wait(90)
        self.stderr.close()
        return code


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    token = client.get("/login").cookies["cw_login_csrf"]
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def queue_as_reviewer(url: str, password: str) -> list[dict]:
    with httpx.Client(base_url=url) as client:
        session = client.post("/api/v1/session", json={"username": "rita", "password": password})
        assert session.status_code == 200, session.text
        return client.get("/api/v1/queue", headers={"Authorization": f"Bearer {session.json()['token']}"}).json()


def admin_adds_reviewer(url: str, one_time: str) -> None:
    """What a person does at first: sign in with the printed password, choose a new one, add a reviewer, who
    then chooses her own password."""
    with httpx.Client(base_url=url, follow_redirects=True) as client:
        form = sign_in(client, "admin", one_time)
        assert form.url.path == "/account/password", form.url
        csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
        new = {"csrf_token": csrf, "current": one_time, "new": "admin-password-1", "repeat": "admin-password-1"}
        assert client.post("/account/password", data=new).url.path == "/cameras"
        token = client.post("/api/v1/session", json={"username": "admin", "password": "admin-password-1"}).json()
        added = client.post(
            "/api/v1/users",
            json={"username": "rita", "role": "reviewer"},
            headers={"Authorization": f"Bearer {token['token']}"},
        )
        assert added.status_code == 201, added.text
        # Rita replaces the one-time password she was given before she can do anything else.
        rita = client.post(
            "/api/v1/session", json={"username": "rita", "password": added.json()["one_time_password"]}
        ).json()
        changed = client.post(
            "/api/v1/me/password",
            json={"current": added.json()["one_time_password"], "new": "rita-password-1"},
            headers={"Authorization": f"Bearer {rita['token']}"},
        )
        assert changed.status_code == 204, changed.text


def outbox_rows(path: Path) -> list[tuple]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute("SELECT seq FROM outbox").fetchall()


def assert_nothing_left(demo: RunningDemo) -> None:
    assert demo.seen_pids, "the demo started no child process"
    left = [pid for pid in demo.seen_pids if alive(pid)]
    assert not left, f"processes left behind: {left}"


def assert_broker_stopped_last(data: Path) -> None:
    """Mosquitto's log of the last run: central disconnected before the broker terminated."""
    last_run = (data / "broker" / "mosquitto" / "mosquitto.log").read_text().rsplit(" running", 1)[1]
    assert "terminating" in last_run
    assert "curbwatch-demo-central disconnected" in last_run.split("terminating")[0], last_run


def test_demo_with_mosquitto_queues_the_clips_events_and_a_rerun_keeps_them(tmp_path: Path) -> None:
    video = shared_file("media", CLIP)
    data = tmp_path / "demo-data"
    args = ("--video", str(video), "--config", "examples/jay_intersection_crosswalk.yaml")
    demo = RunningDemo(data, *args)
    try:
        one_time = demo.wait_for(r"one-time password (\S+)", 180).group(1)
        assert "(Mosquitto)" in demo.output and f"console   {demo.url}" in demo.output
        pending = int(demo.wait_for(r"review queue: (\d+) pending").group(1))
        assert re.search(r"replay done: 143 frames, .*events: jaywalking \d", demo.output)
        assert httpx.get(f"{demo.url}/login").status_code == 200
        admin_adds_reviewer(demo.url, one_time)
        queue = queue_as_reviewer(demo.url, "rita-password-1")
        assert len(queue) == pending >= 1
        assert {(item["camera_id"], item["type"], item["review_state"]) for item in queue} == {
            ("intersection-01", "jaywalking", "pending")
        }
    finally:
        code = demo.interrupt()
    assert code == 0, demo.output
    assert "stopped" in demo.output
    assert_nothing_left(demo)
    assert_broker_stopped_last(data)
    assert yaml.safe_load((ROOT / args[3]).read_text())["camera"]["id"] == "intersection-01"  # the user's YAML
    assert "signing" not in (ROOT / args[3]).read_text()  # ... is left as it was
    # Every event was kept on the camera until central's signed receipt came back: neither side ran without one.
    logs = "".join(path.read_text() for path in (data / "logs").glob("*.log"))
    assert "no signing.central_key" not in logs and "no --receipt-key" not in logs, logs[-2000:]
    assert not outbox_rows(data / "edge" / "outbox-intersection-01.db")

    again = RunningDemo(data, *args)
    try:
        assert int(again.wait_for(r"review queue: (\d+) pending", 180).group(1)) == pending
        assert "one-time password" not in again.output and "exists already" in again.output
        assert "was replayed into this data folder" in again.output  # the same events are not queued twice
        assert len(queue_as_reviewer(again.url, "rita-password-1")) == pending
    finally:
        assert again.interrupt() == 0, again.output
    assert_nothing_left(again)
    assert_broker_stopped_last(data)


def test_demo_with_the_embedded_broker(tmp_path: Path) -> None:
    """No Mosquitto needed; without --config the example drawn on the clip is used."""
    video = shared_file("media", CLIP)
    demo = RunningDemo(tmp_path / "demo-data", "--broker-impl", "python", "--video", str(video), "--max-frames", FRAMES)
    try:
        demo.wait_for(r"embedded Python MQTT 5 broker", 180)
        one_time = demo.wait_for(r"one-time password (\S+)", 180).group(1)
        pending = int(demo.wait_for(r"review queue: (\d+) pending").group(1))
        assert pending >= 1
        # A deduction signs a checkpoint: into the demo's data folder, not ./data (issue 23 §3).
        admin_adds_reviewer(demo.url, one_time)
        event_id = queue_as_reviewer(demo.url, "rita-password-1")[0]["event_id"]
        with httpx.Client(base_url=demo.url, timeout=30) as client:
            token = client.post("/api/v1/session", json={"username": "rita", "password": "rita-password-1"}).json()
            decision = {"decision": "confirm", "reason": "clear evidence", "subject_ref": "case-1", "version": 0}
            decided = client.post(
                f"/api/v1/infractions/{event_id}/decision",
                json=decision,
                headers={"Authorization": f"Bearer {token['token']}"},
            )
            assert decided.json()["review_state"] == "confirmed", decided.text
    finally:
        assert demo.interrupt() == 0, demo.output
    assert_nothing_left(demo)
    checkpoints = tmp_path / "demo-data" / "checkpoints"
    assert '"ledger_entries"' in (checkpoints / "checkpoints.jsonl").read_text()
    assert (checkpoints / "LEDGER_ID").exists() and not (ROOT / "data" / "checkpoints").exists()
    listed = run_cli("central", "list", "--db", f"sqlite:///{tmp_path / 'demo-data' / 'curbwatch.db'}", "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert len(rows) == pending and all(row["signature"] and row["evidence"] for row in rows)


def test_a_part_that_fails_stops_the_demo_with_one_line(tmp_path: Path) -> None:
    config = yaml.safe_load((ROOT / "examples" / "jay_intersection_crosswalk.yaml").read_text())
    config["detector"] = {"model": str(tmp_path / "missing.tflite")}
    path = tmp_path / "camera.yaml"
    path.write_text(yaml.safe_dump(config))
    demo = RunningDemo(tmp_path / "demo-data", "--video", str(shared_file("media", CLIP)), "--config", str(path))
    demo.wait_for("replaying", 180)
    code = demo.process.wait(180)
    demo.stderr.close()
    errors = (tmp_path / f"demo-stderr-{demo.http_port}.log").read_text()
    assert code == 1
    assert re.search(r"error: the edge replay stopped \(exit 5\): error: model file not found: .*missing", errors)
    assert "stopped; the data stays in" in demo.output
    assert_nothing_left(demo)


def test_the_queue_count_reads_as_english():
    assert queue_line(QueueCounts(1), "http://127.0.0.1:8080") == (
        "review queue: 1 pending event at http://127.0.0.1:8080/queue"
    )
    assert queue_line(QueueCounts(0), "http://x").startswith("review queue: 0 pending events at ")
    assert queue_line(QueueCounts(2), "http://x").startswith("review queue: 2 pending events at ")
    # Issue 24 §11: a rerun whose events were all decided says so instead of a bare "0 pending".
    decided = queue_line(QueueCounts(0, 0, 1), "http://x")
    assert decided == "review queue: 0 pending events at http://x/queue (1 decided)"
    assert queue_line(QueueCounts(1, 2, 3), "http://x").endswith("/queue (2 in review, 3 decided)")


def test_the_demo_follows_the_replay_progress_that_edge_logs_into_its_pipe(caplog):
    with caplog.at_level("INFO", logger="edge.progress"), PlainProgress(143, CLIP) as progress:
        progress.update(60)
    progress_match = _PROGRESS.search(
        logging.Formatter("%(levelname)s %(name)s: %(message)s").format(caplog.records[-1])
    )
    assert progress_match is not None and progress_match.groups() == ("60", "143")
