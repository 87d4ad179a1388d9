"""Whether an engine's database can be reached, and since when it cannot: fed by the engine's own events, so
every caller of the engine (an ingest batch, a console page, a health check) sees the same answer.

A lost connection or a failed connection attempt starts an outage; the next connection made afresh ends it.
A failover is exactly this: every pooled connection to the old primary fails, and the first connection that
libpq makes to the new one (with `target_session_attrs=read-write`) is the recovery."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


@dataclass(frozen=True)
class Down:
    since: datetime
    reason: str


class Outage:
    """One engine's reachability, safe to read from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down: Down | None = None

    @property
    def down(self) -> Down | None:
        with self._lock:
            return self._down

    def failed(self, reason: str) -> Down:
        """Record a failure; returns the outage it belongs to (its `since` is the first failure's time)."""
        with self._lock:
            if self._down is None:
                self._down = Down(datetime.now(UTC), reason)
            return self._down

    def recovered(self) -> Down | None:
        """The database answered again; returns the outage that ended, or None if there was none."""
        with self._lock:
            ended, self._down = self._down, None
            return ended


_OUTAGES: weakref.WeakKeyDictionary[Engine, Outage] = weakref.WeakKeyDictionary()


def first_line(error: BaseException) -> str:
    """The driver's own message, first line only: libpq lists every host it tried on the lines below."""
    original = error.orig if isinstance(error, DBAPIError) else error
    return (str(original).strip().splitlines() or [type(original).__name__])[0][:300]


def watch(engine: Engine) -> Outage:
    """Attach an outage record to `engine` (once) and return it."""
    found = _OUTAGES.get(engine)
    if found is not None:
        return found
    outage = _OUTAGES[engine] = Outage()

    def on_error(context: ExceptionContext) -> None:
        # No connection yet means connecting failed: the server is down, unreachable or read-only.
        if context.is_disconnect or context.connection is None:
            outage.failed(first_line(context.original_exception))

    event.listen(engine, "handle_error", on_error)
    event.listen(engine, "connect", lambda *_: outage.recovered())
    return outage


def outage_of(engine: Engine) -> Outage | None:
    """The record `watch` attached, or None for an engine nobody watches."""
    return _OUTAGES.get(engine)


READ_ONLY_SQLSTATE = "25006"
"""PostgreSQL's refusal to write in a read-only transaction: what a standby, or a demoted primary, answers."""


def is_read_only(error: BaseException) -> bool:
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) == READ_ONLY_SQLSTATE


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot take the work now (unreachable, or a standby that takes no writes),
    as opposed to a refusal of this statement; work refused for this reason succeeds when tried again later."""
    if is_read_only(error) or (isinstance(error, DBAPIError) and error.connection_invalidated):
        return True
    return isinstance(error, OperationalError | InterfaceError)
