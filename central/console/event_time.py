"""When an event happened, as the queue and the item page say it.

A replayed file's event is dated by where it is in the clip ("vtest.avi at 0:42"): the message's wall times are
only when the replay ran. A live camera's event is dated by the camera box's clock, and when that clock was off
central's by more than CLOCK_TOLERANCE_S at its last heartbeat, the page says so. Schema /1 messages name no
source: their start time is shown as it is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central.timeutil import as_utc

CLOCK_TOLERANCE_S = 5.0
"""A box clock this close to central's is not worth a word (network delay and NTP steps stay well inside it)."""


@dataclass(frozen=True)
class EventTime:
    main: str
    detail: str | None = None
    """A second, smaller line: the replay's wall time, or how far the camera's clock is off."""
    clip: str | None = None
    """The replayed file's name, None for a live camera or a /1 message."""


def utc_text(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%d %H:%M:%S UTC")


def clip_position(seconds: float) -> str:
    """Seconds into a clip as a video player shows them: 0:42, 12:05, 1:02:03."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def clock_offset_text(offset_s: float | None) -> str | None:
    """'camera clock 12 s ahead' (or behind) when the box's clock is off by more than the tolerance, else None."""
    if offset_s is None or abs(offset_s) <= CLOCK_TOLERANCE_S:
        return None
    size = abs(offset_s)
    for unit, seconds in (("h", 3600), ("min", 60)):
        if size >= 2 * seconds:
            amount = f"{size / seconds:.0f} {unit}"
            break
    else:
        amount = f"{size:.0f} s"
    return f"camera clock {amount} {'ahead' if offset_s > 0 else 'behind'}"


def event_time(payload: dict[str, Any], started_at: datetime, clock_offset_s: float | None) -> EventTime:
    source = payload.get("source")
    if isinstance(source, dict) and source.get("kind") == "file":
        clip, offset = source.get("clip"), source.get("offset_s")
        if isinstance(clip, str) and isinstance(offset, int | float):
            return EventTime(f"{clip} at {clip_position(offset)}", f"replayed {utc_text(started_at)}", clip)
    if isinstance(source, dict) and source.get("kind") == "live":
        return EventTime(utc_text(started_at), clock_offset_text(clock_offset_s))
    return EventTime(utc_text(started_at))
