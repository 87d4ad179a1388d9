"""systemd's notify protocol, spoken directly: one datagram per state change to the unix socket that systemd
names in NOTIFY_SOCKET (a path, or an abstract name written with a leading '@'). Without NOTIFY_SOCKET every
call is a no-op, so the same code runs under systemd, a supervisor or a terminal.

READY=1 after the first frame, WATCHDOG=1 while frames flow (at half the WATCHDOG_USEC interval, as
sd_watchdog_enabled(3) advises), RELOADING=1 / READY=1 around a config reload, STOPPING=1 on shutdown."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


def socket_address(name: str) -> str:
    """The address to send to: an abstract socket ('@name') becomes a name starting with a NUL byte."""
    return "\0" + name[1:] if name.startswith("@") else name


def watchdog_interval(environ: Mapping[str, str]) -> float | None:
    """Seconds between watchdog pings: half of WATCHDOG_USEC, when it is set for this very process."""
    usec = environ.get("WATCHDOG_USEC", "")
    pid = environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


class Notifier:
    def __init__(self, environ: Mapping[str, str] | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        env = os.environ if environ is None else environ
        name = env.get("NOTIFY_SOCKET", "")
        self.address = socket_address(name) if name else None
        self.interval = watchdog_interval(env) if self.address else None
        self._clock = clock
        self._next_ping = 0.0
        self._ready = False
        self._socket: socket.socket | None = None
        if self.address is not None:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @property
    def enabled(self) -> bool:
        return self._socket is not None

    def send(self, *fields: str) -> None:
        """Send `fields` (such as 'READY=1') as one datagram; a missing listener is logged, never fatal."""
        if self._socket is None or self.address is None:
            return
        try:
            self._socket.sendto("\n".join(fields).encode(), self.address)
        except OSError as exc:
            log.warning("cannot notify the service manager at %s: %s", self.address.lstrip("\0"), exc)

    def frame(self, status: str = "") -> None:
        """Call once per processed frame: READY=1 the first time, then WATCHDOG=1 when the interval is due."""
        if self._socket is None:
            return
        now = self._clock()
        extra = [f"STATUS={status}"] if status else []
        if not self._ready:
            self._ready = True
            self.send("READY=1", *extra)  # systemd counts READY as the first sign of life
        elif self.interval is not None and now >= self._next_ping:
            self.send("WATCHDOG=1", *extra)
        else:
            return
        self._next_ping = now + (self.interval or 0.0)

    def reloading(self) -> None:
        monotonic_usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send("RELOADING=1", f"MONOTONIC_USEC={monotonic_usec}")

    def reloaded(self) -> None:
        self.send("READY=1")

    def stopping(self) -> None:
        self.send("STOPPING=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
