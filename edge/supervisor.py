"""Several cameras from one `curbwatch edge run`: one child process per camera (a crash, a stuck stream or a
leak in one camera's decoder never takes the others down), supervised by the parent.

The parent labels each child's output with its camera id, forwards SIGTERM/SIGINT (as SIGTERM) and SIGHUP,
restarts a child that crashed with a growing backoff, and ends once every child has ended. Under systemd's
watchdog it gives each child a notify socket of its own and kills a child that stops reporting frames, so
one stuck camera is restarted alone."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from edge.detect.runtimes import BOX_CAMERAS_ENV
from edge.lifecycle import Lifecycle
from models.config.camera import CameraConfig
from models.errors import InputError

log = logging.getLogger(__name__)

CONFIG_SUFFIXES = (".yaml", ".yml")
RESTART_INITIAL_S = 1.0
RESTART_MAX_S = 60.0
STABLE_AFTER_S = 60.0
"""A child that ran this long before crashing starts again after the initial backoff, not a longer one."""
TICK_S = 0.2


class CameraSetError(InputError, ValueError):
    """The cameras asked for cannot run together; the message is one line."""


def camera_files(paths: Iterable[str | Path]) -> list[Path]:
    """Each path as given, a folder replaced by its *.yaml / *.yml files in name order."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in CONFIG_SUFFIXES and p.is_file())
            if not found:
                raise CameraSetError(f"--config {path}: the folder holds no camera config (*.yaml, *.yml)")
            files += found
        else:
            files.append(path)
    seen: set[Path] = set()
    unique = []
    for path in files:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append(path)
    return unique


def check_camera_set(configs: dict[Path, CameraConfig]) -> None:
    """Refuse two configs for one camera id, or two cameras writing one outbox file."""
    by_id: dict[str, Path] = {}
    by_outbox: dict[Path, str] = {}
    for path, config in configs.items():
        camera = config.camera.id
        if camera in by_id:
            raise CameraSetError(f"camera id {camera!r} is in both {by_id[camera]} and {path}: camera ids must differ")
        by_id[camera] = path
        outbox = config.outbox.file_for(camera).resolve()
        if outbox in by_outbox:
            raise CameraSetError(f"cameras {by_outbox[outbox]!r} and {camera!r} both use the outbox file {outbox}")
        by_outbox[outbox] = camera


@dataclass
class Child:
    camera_id: str
    command: list[str]
    process: subprocess.Popen | None = None
    readers: list[threading.Thread] = field(default_factory=list)
    notify: socket.socket | None = None
    notify_name: str = ""
    started_at: float = 0.0
    start_at: float = 0.0
    backoff: float = RESTART_INITIAL_S
    restarts: int = 0
    ready: bool = False
    last_ping: float = 0.0
    exit_code: int | None = None
    done: bool = False


def _forward(stream: IO[str], out: IO[str], label: str, lock: threading.Lock) -> None:
    for line in stream:
        with lock:
            out.write(f"[{label}] {line}")
            out.flush()
    stream.close()


class Supervisor:
    def __init__(
        self,
        children: dict[str, list[str]],
        lifecycle: Lifecycle,
        environ: dict[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`children` maps a camera id to the command that runs it."""
        self.children = [Child(camera_id, command) for camera_id, command in children.items()]
        self.lifecycle = lifecycle
        self.environ = dict(os.environ if environ is None else environ)
        self._clock = clock
        self._out_lock = threading.Lock()
        self._stopping = False
        # Children are watched with the interval systemd gave this process: a stuck camera restarts alone.
        self.child_timeout = lifecycle.notifier.interval * 2 if lifecycle.notifier.interval else None
        lifecycle.on_force = lambda: self._signal_all(signal.SIGKILL)

    def _child_env(self, child: Child) -> dict[str, str]:
        """The child speaks the notify protocol to a socket of the parent's (an abstract one: nothing to clean
        up, nothing to write on a read-only file system), which tells when its frames flow."""
        env = {k: v for k, v in self.environ.items() if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
        env["PYTHONUNBUFFERED"] = "1"
        env[BOX_CAMERAS_ENV] = str(len(self.children))
        if child.notify is None:
            child.notify_name = f"@curbwatch-{os.getpid()}-{child.camera_id}-{uuid.uuid4().hex[:8]}"
            child.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            child.notify.bind("\0" + child.notify_name[1:])
            child.notify.setblocking(False)
        env["NOTIFY_SOCKET"] = child.notify_name
        if self.child_timeout is not None:
            env["WATCHDOG_USEC"] = str(int(self.child_timeout * 1_000_000))
        return env

    def _start(self, child: Child) -> None:
        child.ready, child.exit_code = False, None
        # Its own session: a Ctrl-C in the terminal reaches the parent only, which stops the children once.
        child.process = subprocess.Popen(
            child.command,
            env=self._child_env(child),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        child.started_at = child.last_ping = self._clock()
        child.readers = [
            threading.Thread(target=_forward, args=(stream, out, child.camera_id, self._out_lock), daemon=True)
            for stream, out in ((child.process.stdout, sys.stdout), (child.process.stderr, sys.stderr))
        ]
        for reader in child.readers:
            reader.start()
        log.info("camera %s: started (pid %d)", child.camera_id, child.process.pid)

    def _signal_all(self, signum: int) -> None:
        for child in self.children:
            if child.process is not None and child.process.poll() is None:
                child.process.send_signal(signum)

    def _read_notifications(self, child: Child) -> None:
        while child.notify is not None:
            try:
                data = child.notify.recv(4096)
            except BlockingIOError:
                return
            fields = data.decode(errors="replace").split("\n")
            if "READY=1" in fields and not child.ready:
                child.ready = True
                log.info("camera %s: frames flowing", child.camera_id)
            if "WATCHDOG=1" in fields or "READY=1" in fields:
                child.last_ping = self._clock()

    def _check(self, child: Child, now: float) -> None:
        process = child.process
        if process is None:
            if self._stopping:
                child.done = True
            elif now >= child.start_at:
                self._start(child)
            return
        self._read_notifications(child)
        code = process.poll()
        if code is None:
            if self.child_timeout and child.ready and now - child.last_ping > self.child_timeout:
                log.error("camera %s: no frame for %.0f s (watchdog); killing it", child.camera_id, self.child_timeout)
                process.kill()
            return
        for reader in child.readers:
            reader.join(5.0)
        child.process, child.exit_code = None, code
        if self._stopping or code == 0:
            log.info("camera %s: ended (exit code %d)", child.camera_id, code)
            child.done = True
            return
        if now - child.started_at >= STABLE_AFTER_S:
            child.backoff = RESTART_INITIAL_S
        child.restarts += 1
        child.start_at = now + child.backoff
        log.warning(
            "camera %s: crashed (exit code %d); restart %d in %.0f s",
            child.camera_id,
            code,
            child.restarts,
            child.backoff,
        )
        child.backoff = min(child.backoff * 2, RESTART_MAX_S)

    def run(self) -> int:
        """Until every child has ended; 0 when each ended cleanly (exit 0), else 1."""
        notifier = self.lifecycle.notifier
        try:
            while not all(child.done for child in self.children):
                if self.lifecycle.stop_requested and not self._stopping:
                    self._stopping = True
                    notifier.stopping()
                    log.info("stopping %d cameras", sum(c.process is not None for c in self.children))
                    self._signal_all(signal.SIGTERM)
                if self.lifecycle.reload_requested:
                    self.lifecycle.reload_requested = False
                    log.info("forwarding SIGHUP to the cameras")
                    self._signal_all(signal.SIGHUP)
                now = self._clock()
                for child in self.children:
                    if not child.done:
                        self._check(child, now)
                if not self._stopping:
                    running = sum(c.process is not None for c in self.children)
                    notifier.frame(f"{running} of {len(self.children)} cameras running")
                time.sleep(TICK_S)
        finally:
            for child in self.children:
                if child.notify is not None:
                    child.notify.close()
        return 0 if all(child.exit_code == 0 for child in self.children) else 1
