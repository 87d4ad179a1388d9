"""A private Mosquitto on a free local port, for `bench ingest` and the transport tests.

Persistence is on, so sessions and queued messages survive a restart. The queue limits are lifted:
Mosquitto's default of 1,000 queued messages per offline session would drop events while a central
worker is down, which is exactly what the transport must not do."""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from curbwatch.children import stop_process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def plain_config(port: int, data_dir: Path) -> str:
    return "\n".join(
        [
            f"listener {port} 127.0.0.1",
            # Mosquitto started as root would switch to the `mosquitto` user and could not write its
            # persistence file in a private temporary folder; naming the current user keeps it as is.
            f"user {getpass.getuser()}",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {data_dir}/",
            "max_queued_messages 0",
            "max_inflight_messages 1000",
            "message_size_limit 0",
            f"log_dest file {data_dir}/mosquitto.log",
            "",
        ]
    )


def mosquitto_binary() -> str | None:
    found = shutil.which("mosquitto")
    if found:
        return found
    # Debian installs it in /usr/sbin, which is not on every user's PATH.
    return "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").is_file() else None


class LocalBroker:
    def __init__(self, folder: Path, config_text: str | None = None, port: int | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.config = self.folder / "mosquitto.conf"
        self.config.write_text(config_text or plain_config(self.port, self.folder))
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> LocalBroker:
        binary = mosquitto_binary()
        if binary is None:
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto)")
        # Its own session: a terminal's Ctrl-C goes to the owner, which stops the broker last, after its clients.
        self.process = subprocess.Popen(
            [binary, "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                assert self.process.stderr is not None  # opened with stderr=PIPE
                raise RuntimeError(f"mosquitto exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout} s")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        """SIGTERM lets Mosquitto write its persistence file; SIGKILL does not."""
        if self.process is not None:
            stop_process(self.process, sig, timeout)
        self.process = None

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
