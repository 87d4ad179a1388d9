"""Signals for a camera process, acted on between frames: SIGTERM/SIGINT end the stream so the pipeline
finishes normally (rules flush, pending evidence completes, sinks close, the outbox commits); SIGHUP
reloads the config. Handlers only set flags: all the work happens in the frame loop, never inside a
signal handler."""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator

from edge.sd_notify import Notifier
from edge.source import SourceFrame
from models.errors import CurbwatchError

log = logging.getLogger(__name__)

SLEEP_SLICE_S = 0.2
"""A reconnect backoff or real-time pacing sleeps in slices this long, so a stop request ends it soon."""
EXIT_FORCED = 130


class Stopped(CurbwatchError):
    """Raised out of a source's sleep (reconnect backoff, real-time pacing) once a stop was requested."""


class Lifecycle:
    def __init__(self, notifier: Notifier | None = None) -> None:
        self.notifier = notifier or Notifier()
        self.stop_requested = False
        self.reload_requested = False
        self.on_force: Callable[[], None] = lambda: None
        """Runs before a forced exit (a supervisor kills its children there)."""

    def install(self) -> None:
        """Take over SIGTERM, SIGINT and SIGHUP (call from the main thread)."""
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def _on_stop(self, signum: int, _frame: object) -> None:
        # A second Ctrl-C means "now": what is durable stays durable (the outbox commits per event, evidence
        # appears by rename), only the events being finished are lost. A repeated SIGTERM changes nothing:
        # systemd may send one to every process of the unit, and its own timeout ends with SIGKILL.
        if self.stop_requested and signum == signal.SIGINT:
            os.write(2, b"second interrupt: exiting without finishing\n")
            self.on_force()
            os._exit(EXIT_FORCED)
        self.stop_requested = True

    def _on_reload(self, _signum: int, _frame: object) -> None:
        self.reload_requested = True

    def sleep(self, seconds: float) -> None:
        """time.sleep for a source: raises Stopped as soon as a stop is requested, so a camera that is down
        and being reconnected with a long backoff still stops at once."""
        deadline = time.monotonic() + seconds
        while True:
            if self.stop_requested:
                raise Stopped
            left = deadline - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, SLEEP_SLICE_S))

    def frames(
        self,
        frames: Iterable[SourceFrame],
        reload: Callable[[], object],
        status: Callable[[], str] = str,
    ) -> Iterator[SourceFrame]:
        """Pass frames on until the source ends or a stop is requested; between two frames, run `reload`
        when SIGHUP asked for it and tell the service manager the process is alive."""
        try:
            for frame in frames:
                if self.stop_requested:
                    break
                if self.reload_requested:
                    self.reload_requested = False
                    self.notifier.reloading()
                    reload()
                    self.notifier.reloaded()
                self.notifier.frame(status())
                yield frame
        except Stopped:
            pass
        finally:
            if self.stop_requested:
                log.info("stop requested: finishing the events in progress")
            self.notifier.stopping()
