"""Start and fault `tests/rtsp_server.py`, a real GStreamer RTSP server, from the tests (it runs under the
system python3, which has python3-gi; `.ci/setup` installs both)."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
CLONE_NEWNET = 0x40000000
OWN_NETWORK = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"]
"""A network namespace of the server's own, with only its loopback up: its network can be taken away without
touching the machine's."""
SERVER = Path(__file__).with_name("rtsp_server.py")
READY_S = 60.0
"""Decoding the clip into memory comes first; on a busy two-core machine that can take a while."""


def check_gstreamer() -> None:
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0')"],
        capture_output=True,
        text=True,
    )
    if probe.returncode:
        pytest.fail(f"GStreamer's RTSP server is missing ({probe.stderr.strip()[-200:]}): run .ci/setup")


class RtspCamera:
    """One server process serving one clip at rtsp://127.0.0.1:PORT/cam; `restart` keeps the port. With
    `own_network` it runs in a network namespace of its own (`join_network` lets a thread reach it there); with
    `lead_in`, each client gets that many grey frames before the clip."""

    def __init__(
        self,
        clip: Path,
        *,
        loop: bool = True,
        codec: str = "h264",
        size: str | None = None,
        own_network: bool = False,
        lead_in: int = 0,
    ) -> None:
        self.clip, self.loop, self.codec, self.size = clip, loop, codec, size
        self.own_network, self.lead_in = own_network, lead_in
        self.port = 0
        self.process: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self.start()

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/cam"

    def start(self, size: str | None = None) -> None:
        self.size = size or self.size
        command = [SYSTEM_PYTHON, str(SERVER), str(self.clip), "--port", str(self.port), "--codec", self.codec]
        command += ["--loop"] if self.loop else []
        command += ["--size", self.size] if self.size else []
        command += ["--lead-in", str(self.lead_in)] if self.lead_in else []
        command = OWN_NETWORK + command if self.own_network else command
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        ready = threading.Event()
        threading.Thread(target=self._listen, args=(self.process, ready), daemon=True).start()
        if not ready.wait(READY_S):
            self.kill()
            pytest.fail(f"the RTSP server did not start in {READY_S:.0f} s: {self.lines[-5:]}")

    def _listen(self, process: subprocess.Popen[str], ready: threading.Event) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.strip())
            if line.startswith("ready "):
                self.port = int(line.split()[1])
                ready.set()

    def wait_for(self, line: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while line not in self.lines:
            if time.monotonic() > deadline:
                pytest.fail(f"the RTSP server never said {line!r}: {self.lines[-5:]}")
            time.sleep(0.05)

    def stall(self) -> None:
        """Stop sending frames, every connection kept open."""
        assert self.process is not None
        self.process.send_signal(signal.SIGUSR1)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGUSR2)

    @property
    def _network(self) -> str:
        assert self.process is not None and self.own_network
        return f"/proc/{self.process.pid}/ns/net"

    def join_network(self) -> None:
        """Move the calling thread (only it, and the threads it starts) into the server's network namespace."""
        descriptor = os.open(self._network, os.O_RDONLY)
        try:
            if ctypes.CDLL(None, use_errno=True).setns(descriptor, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(descriptor)

    def network(self, up: bool) -> None:
        """Take the server's network away (its loopback down: no reset, no goodbye, only silence) or bring it back."""
        state = "up" if up else "down"
        subprocess.run(["nsenter", f"--net={self._network}", "ip", "link", "set", "lo", state], check=True)

    def kill(self) -> None:
        """As a camera losing power: no goodbye to its clients."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self, size: str | None = None) -> None:
        self.kill()
        self.start(size)
