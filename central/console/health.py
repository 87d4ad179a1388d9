"""Camera health for the console: online/offline from the retained status messages, how long since the last
heartbeat, events per hour, and the warnings an operator should act on. Pure: the caller fetches the rows."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from central.settings import CameraHealthSettings


@dataclass(frozen=True)
class StatusRow:
    site: str
    camera_id: str
    state: str
    last_seen: datetime
    heartbeat: dict | None


@dataclass(frozen=True)
class CameraHealth:
    site: str
    camera_id: str
    state: str
    last_seen: datetime | None
    seconds_since: float | None
    events_last_hour: int
    events_per_hour_24h: float
    heartbeat: dict
    warnings: tuple[str, ...] = ()
    replayed: str | None = None
    """The recorded file its newest event came from (a replay, as the demo runs), or None for a live camera."""

    @property
    def replay_ended(self) -> bool:
        """A replaying camera goes offline when its file ends: that is its finish, not a fault."""
        return self.state == "offline" and self.replayed is not None

    @property
    def oldest_queued(self) -> str:
        """How long the oldest outbox message has waited, as text; empty when nothing waits."""
        age = self.heartbeat.get("oldest_queued_s")
        return span(age) if isinstance(age, int | float) else ""

    @property
    def fps_below_need(self) -> bool:
        fps, need = self.heartbeat.get("fps"), self.heartbeat.get("required_fps")
        return isinstance(fps, int | float) and isinstance(need, int | float) and fps < need


def span(seconds: float) -> str:
    """A duration as a person reads it: '45 s', '12 min', '3 h 20 min', '2 d 4 h'."""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86_400:
        hours, minutes = divmod(seconds // 60, 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(seconds // 3600, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def camera_warnings(health: CameraHealth, limits: CameraHealthSettings) -> list[str]:
    """What is wrong with a camera, one sentence each: gone (offline, silent, never reported), an outbox that
    grows (too many messages, or the oldest waiting too long: the uplink or the broker is failing), or fewer
    frames per second than its rules need. A heartbeat's figures count only while the camera is online."""
    since = span(health.seconds_since or 0)
    if health.replay_ended:
        return []
    if health.state == "offline":
        return [f"offline for {since}"]
    if health.state == "silent":
        return [f"no heartbeat for {since}, yet not reported offline"]
    if health.state == "unknown":
        return ["sends events but no status message has arrived"]
    beat, warnings = health.heartbeat, []
    depth, age = beat.get("queue_depth"), beat.get("oldest_queued_s")
    if isinstance(depth, int) and depth > limits.outbox_messages:
        warnings.append(f"outbox holds {depth} messages (more than {limits.outbox_messages}): are they getting out?")
    if isinstance(age, int | float) and age > limits.outbox_age_s:
        warnings.append(f"oldest outbox message has waited {span(age)} (more than {span(limits.outbox_age_s)})")
    if health.fps_below_need:
        warnings.append(f"runs at {beat['fps']:g} fps; its rules need {beat['required_fps']:g}")
    return warnings


def camera_health(
    statuses: list[StatusRow],
    events_1h: dict[tuple[str, str], int],
    events_24h: dict[tuple[str, str], int],
    now: datetime,
    limits: CameraHealthSettings | None = None,
    replayed: dict[tuple[str, str], str] | None = None,
) -> list[CameraHealth]:
    """One line per camera known from a status message or from events, sorted by site and camera.
    State is `online`, `offline`, `silent` (online but no heartbeat lately) or `unknown` (events, no status);
    each line carries its warnings. `replayed`: the file each replaying camera's newest event came from."""
    limits = limits or CameraHealthSettings()
    by_key = {(row.site, row.camera_id): row for row in statuses}
    keys = sorted(set(by_key) | set(events_1h) | set(events_24h))
    result = []
    for key in keys:
        row = by_key.get(key)
        if row is None:
            state, last_seen, since, heartbeat = "unknown", None, None, {}
        else:
            since = max(0.0, (now - row.last_seen).total_seconds())
            state = "silent" if row.state == "online" and since > limits.silent_after_s else row.state
            last_seen, heartbeat = row.last_seen, dict(row.heartbeat or {})
        health = CameraHealth(
            site=key[0],
            camera_id=key[1],
            state=state,
            last_seen=last_seen,
            seconds_since=since,
            events_last_hour=events_1h.get(key, 0),
            events_per_hour_24h=round(events_24h.get(key, 0) / 24.0, 2),
            heartbeat=heartbeat,
            replayed=(replayed or {}).get(key),
        )
        result.append(replace(health, warnings=tuple(camera_warnings(health, limits))))
    return result
