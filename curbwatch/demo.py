"""`curbwatch demo`: a broker, the central worker with the console, a first admin and an edge replay, on one
machine with nothing installed by hand, until Ctrl-C.

The broker is a private Mosquitto when one is installed, otherwise the embedded Python broker on a thread of
this process. Central and the edge run as child processes, each in its own session: Ctrl-C reaches only this
process, which stops the edge, then central, then the broker, and waits for each."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click

import curbwatch
from curbwatch.children import Child
from curbwatch.demo_camera import DemoCamera, ensure_receipt_key, write_central_settings, write_edge_config
from curbwatch.demo_folder import DemoFolder, replay_key
from curbwatch.embedded_broker import EmbeddedBroker
from curbwatch.local_broker import LocalBroker, free_port, mosquitto_binary
from edge.outbox_sink import NotDelivered
from models.errors import UnavailableError

log = logging.getLogger(__name__)

DEFAULT_HTTP_PORT = 8080
DEFAULT_MQTT_PORT = 1883
CENTRAL_CLIENT_ID = "curbwatch-demo-central"
READY_TIMEOUT_S = 180.0
PROGRESS_EVERY_S = 15.0
_PROGRESS = re.compile(r": (\d+)/(\d+) frames ")
_SUMMARY = re.compile(r"^\d+ frames, .* events: ")
_WARNING = re.compile(r" (WARNING|ERROR|CRITICAL) ")
REPLAY_DONE = (0, NotDelivered.exit_code)
"""Exit codes of a replay that ran to its end; with the second some messages wait in its outbox for the next run,
which the demo passes on instead of stopping everything."""


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    in_review: int = 0
    """Claimed by a reviewer, or waiting for (or in) a second review."""
    decided: int = 0


IN_REVIEW_STATES = ("in_review", "awaiting_second", "second_review")


def queue_line(counts: QueueCounts, console_url: str) -> str:
    """What the queue holds: a rerun's events may all be decided already, and then "0 pending" says why."""
    line = f"review queue: {counts.pending} pending event{'' if counts.pending == 1 else 's'} at {console_url}/queue"
    more = [f"{n} {words}" for n, words in ((counts.in_review, "in review"), (counts.decided, "decided")) if n]
    return f"{line} ({', '.join(more)})" if more else line


class DemoFailed(UnavailableError):
    """A part stopped or never came up; the message is one line."""


@dataclass(frozen=True)
class DemoOptions:
    folder: DemoFolder
    camera: DemoCamera | None
    http_port: int
    mqtt_port: int
    broker_impl: str
    max_frames: int | None = None
    realtime: bool = False
    replay_again: bool = False


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # The servers set SO_REUSEADDR too: a port a previous run left in TIME_WAIT counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def choose_port(requested: int | None, default: int, option: str, what: str) -> int:
    """The requested port (one-line error when taken), else the default, else a free one, said in one line."""
    if requested is not None:
        if not port_is_free(requested):
            raise DemoFailed(f"{option} {requested}: 127.0.0.1:{requested} is already in use")
        return requested
    if port_is_free(default):
        return default
    port = free_port()
    click.echo(f"port {default} is in use, so the {what} listens on port {port} instead ({option} to choose)")
    return port


def start_broker(impl: str, folder: DemoFolder, port: int) -> tuple[LocalBroker | EmbeddedBroker, str]:
    """A private Mosquitto (`auto` when installed, or `mosquitto`), else the embedded broker."""
    try:
        if impl != "python" and mosquitto_binary():
            return LocalBroker(folder.broker / "mosquitto", port=port).start(), "Mosquitto"
        if impl == "mosquitto":
            raise DemoFailed("--broker-impl mosquitto: no mosquitto on the PATH (apt-get install mosquitto)")
        embedded = EmbeddedBroker(folder.broker / "embedded-broker.json", port=port)
        return embedded.start(), "embedded Python MQTT 5 broker"
    except RuntimeError as exc:
        raise DemoFailed(f"the MQTT broker did not start: {str(exc).strip().splitlines()[-1]}") from None


def child_env() -> dict[str, str]:
    """Children import this same checkout of curbwatch, whatever the current folder."""
    root = str(Path(curbwatch.__file__).resolve().parent.parent)
    path = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "PYTHONUNBUFFERED": "1"}


def console_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/login", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def queue_counts(db_url: str) -> QueueCounts:
    from sqlalchemy import func, select

    from central.db import make_engine, session_factory
    from central.tables import Infraction

    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            rows = session.execute(select(Infraction.review_state, func.count()).group_by(Infraction.review_state))
            by_state = {state: count for state, count in rows}
    finally:
        engine.dispose()
    pending = by_state.pop("pending", 0)
    in_review = sum(by_state.pop(state, 0) for state in IN_REVIEW_STATES)
    return QueueCounts(pending, in_review, sum(by_state.values()))


class Demo:
    def __init__(self, options: DemoOptions) -> None:
        self.options = options
        self.folder = options.folder
        self.stop_requested = threading.Event()
        self.stopping = False
        self.subscribed = threading.Event()
        self.console_url = f"http://127.0.0.1:{options.http_port}"
        self.broker: LocalBroker | EmbeddedBroker | None = None
        self.broker_label = ""
        self.edge_config: Path | None = None
        self.central: Child | None = None
        self.edge: Child | None = None
        self.edge_summary: str | None = None
        self.edge_progress: str | None = None
        self.replay_key: str | None = None

    def request_stop(self, _signum: int, _frame: object) -> None:
        self.stop_requested.set()

    def _echo_problem(self, name: str, line: str) -> None:
        if not self.stopping and _WARNING.search(line):
            click.echo(f"[{name}] {line}", err=True)

    def _central_line(self, line: str) -> None:
        if "subscribed to" in line:
            self.subscribed.set()
        self._echo_problem("central", line)

    def _edge_line(self, line: str) -> None:
        progress = _PROGRESS.search(line)
        if progress:
            self.edge_progress = f"{progress.group(1)}/{progress.group(2)} frames"
        elif _SUMMARY.match(line):
            self.edge_summary = line
        else:
            self._echo_problem("edge", line)

    def run(self, admin_password: str | None) -> int:
        """Run until SIGINT or SIGTERM (exit 0) or a part failing (exit 1); stops everything either way."""
        previous = {sig: signal.signal(sig, self.request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.broker, self.broker_label = start_broker(self.options.broker_impl, self.folder, self.options.mqtt_port)
            if self.options.camera is not None:
                # Central reads its key folder once at start: the camera's public key must be there first.
                self.edge_config = write_edge_config(self.options.camera, self.folder, self.broker.url)
                write_central_settings(self.options.camera, self.folder)
            else:
                self.folder.settings.unlink(missing_ok=True)  # an earlier run's camera is not this run's
            self._start_central()
            self._banner(admin_password)
            self._start_edge()
            self._watch()
            return 0
        except DemoFailed as exc:
            click.echo(f"error: {exc}", err=True)
            return 1
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _start_central(self) -> None:
        assert self.broker is not None
        prefix = self.options.camera.config.mqtt.prefix if self.options.camera else "curbwatch/v1"
        self.folder.keys.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable, "-m", "curbwatch", "central", "run",
            "--db", self.folder.db_url,
            "--broker", self.broker.url,
            "--keys", str(self.folder.keys),
            "--receipt-key", str(ensure_receipt_key(self.folder)[0]),
            "--share-group", "",  # one worker: a plain subscription, whose persistent session every broker keeps
            "--client-id", CENTRAL_CLIENT_ID,
            "--data-dir", str(self.folder.root),
            *(["--settings", str(self.folder.settings)] if self.folder.settings.is_file() else []),
            "--prefix", prefix,
            "--http", f"127.0.0.1:{self.options.http_port}",
        ]  # fmt: skip
        self.central = Child("central", argv, self.folder.logs / "central.log", self._central_line).start(child_env())
        click.echo(f"starting the central worker and console (log: {self.central.log_path})")
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not (self.subscribed.is_set() and console_answers(self.console_url)):
            self._check_parts()
            if self.stop_requested.wait(0.3):
                return
            if time.monotonic() > deadline:
                raise DemoFailed(f"central did not come up within {READY_TIMEOUT_S:.0f} s; see {self.central.log_path}")

    def _banner(self, admin_password: str | None) -> None:
        if self.stop_requested.is_set():
            return
        if admin_password:
            admin = f"user admin, one-time password {admin_password} (shown once; you choose a new one at sign-in)"
        else:
            admin = "user admin (exists already: its password was shown at the first run)"
        click.echo(
            "\n".join(
                [
                    "",
                    "curbwatch demo is running",
                    f"  console   {self.console_url}",
                    f"  sign in   {admin}",
                    "            an admin adds reviewers under Users; reviewers work the queue",
                    f"  broker    {self.broker.url} ({self.broker_label})",  # type: ignore[union-attr]
                    f"  data      {self.folder.root} (kept between runs)",
                    "  Ctrl-C to stop",
                    "",
                ]
            )
        )

    def _start_edge(self) -> None:
        camera = self.options.camera
        if camera is None:
            click.echo("no --video: nothing to replay; the broker and the console wait for events")
            return
        if self.stop_requested.is_set():
            return
        self.replay_key = replay_key(camera.video, camera.config_path.read_text(), self.options.max_frames)
        done = self.folder.replayed(self.replay_key)
        if done and not self.options.replay_again:
            click.echo(f"{camera.video} was replayed into this data folder at {done['at']}: {done['summary']}")
            click.echo("its events stay in this data folder; --replay-again replays it once more")
            self._report_queue()
            return
        argv = [
            sys.executable, "-m", "curbwatch", "edge", "replay", str(camera.video),
            "--config", str(self.edge_config),
            "--publish",
            "--evidence-dir", str(self.folder.edge / "evidence"),
        ]  # fmt: skip
        if self.options.max_frames:
            argv += ["--max-frames", str(self.options.max_frames)]
        if self.options.realtime:
            argv.append("--realtime")
        self.edge = Child("edge", argv, self.folder.logs / "edge.log", self._edge_line).start(child_env())
        click.echo(
            f"replaying {camera.video} as camera {camera.config.camera.id} with {camera.config_path} "
            f"(log: {self.edge.log_path})"
        )

    def _watch(self) -> None:
        last_progress = time.monotonic()
        while not self.stop_requested.wait(0.5):
            self._check_parts()
            if self.edge is not None and self.edge.exit_code() in REPLAY_DONE:
                self._replay_finished()
            elif self.edge is not None and time.monotonic() - last_progress > PROGRESS_EVERY_S and self.edge_progress:
                click.echo(f"replay: {self.edge_progress}")
                last_progress = time.monotonic()

    def _replay_finished(self) -> None:
        assert self.edge is not None and self.options.camera is not None and self.replay_key is not None
        summary = self.edge_summary or "finished"
        if self.edge.exit_code() == NotDelivered.exit_code:
            click.echo(f"replay: {self.edge.failure_line()}")
        self.edge.stop()
        self.edge = None
        self.folder.record_replay(self.replay_key, self.options.camera.video, summary)
        click.echo(f"replay done: {summary}")
        self._report_queue(settle_s=1.5)
        click.echo("still serving; Ctrl-C to stop")

    def _report_queue(self, settle_s: float = 0.0) -> None:
        """Print the pending count once it has not changed for `settle_s` (central stores what the broker
        acknowledged to the edge a moment later), waiting 10 s at most."""
        count, changed = queue_counts(self.folder.db_url), time.monotonic()
        deadline = changed + 10.0
        while time.monotonic() - changed < settle_s and time.monotonic() < deadline:
            time.sleep(0.3)
            latest = queue_counts(self.folder.db_url)
            if latest != count:
                count, changed = latest, time.monotonic()
        click.echo(queue_line(count, self.console_url))

    def _check_parts(self) -> None:
        """DemoFailed when a part ended on its own."""
        if self.broker is not None and not self.broker.running:
            raise DemoFailed("the MQTT broker stopped unexpectedly")
        for child, what in ((self.central, "the central worker"), (self.edge, "the edge replay")):
            code = child.exit_code() if child is not None else None
            if child is not None and code is not None and (child is self.central or code not in REPLAY_DONE):
                raise DemoFailed(f"{what} stopped (exit {code}): {child.failure_line()} (log: {child.log_path})")

    def _stop_all(self) -> None:
        self.stopping = True
        click.echo("stopping: edge, central, broker")
        if self.edge is not None:
            # SIGINT lets the replay close its outbox; what is not yet sent goes at the next start.
            self.edge.stop(signal.SIGINT, timeout=30)
        if self.central is not None:
            self.central.stop(signal.SIGTERM, timeout=30)
        if self.broker is not None:
            self.broker.stop()
        click.echo(f"stopped; the data stays in {self.folder.root}")
