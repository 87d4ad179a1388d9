"""Progress of a replay on stderr: tqdm's bar on a terminal; a plain log line every few seconds where stderr
is a file or a pipe (the demo's logs, journald), since there every redraw of the bar would pile up on one line."""

from __future__ import annotations

import logging
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

from tqdm import tqdm

log = logging.getLogger(__name__)

PLAIN_EVERY_S = 5.0


class Progress(Protocol):
    def update(self, n: int = 1) -> object: ...


class PlainProgress:
    """Counts frames and logs how far it got every `every_s` seconds and once at the end."""

    def __init__(self, total: int | None, desc: str, every_s: float = PLAIN_EVERY_S) -> None:
        self.total, self.desc, self.every_s = total, desc, every_s
        self.done = 0
        self.started = self.last_said = time.monotonic()

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last_said >= self.every_s:
            self.last_said = now
            self._say(now)

    def _say(self, now: float) -> None:
        elapsed = now - self.started
        of_total = f"/{self.total}" if self.total else ""
        share = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        rate = self.done / elapsed if elapsed > 0 else 0.0
        log.info("%s: %d%s frames%s in %.0f s, %.1f frames/s", self.desc, self.done, of_total, share, elapsed, rate)

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._say(time.monotonic())


def progress_bar(total: int | None, desc: str, enabled: bool = True) -> AbstractContextManager[Progress | None]:
    """A context manager giving something to `update(1)` per frame, or None when progress is off."""
    if not enabled:
        return nullcontext()
    if sys.stderr.isatty():
        return tqdm(total=total, unit="frame", desc=desc, file=sys.stderr, leave=False)
    return PlainProgress(total, desc)
