"""Camera health for the console: online/offline from the retained status messages, how long since the last
heartbeat, and events per hour. Pure: the caller fetches the rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

SILENT_AFTER_S = 300
"""An `online` camera whose last heartbeat is older than this is shown as silent: the broker has not sent its
Last Will yet, but something is wrong."""


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

    @property
    def fps_below_need(self) -> bool:
        fps, need = self.heartbeat.get("fps"), self.heartbeat.get("required_fps")
        return isinstance(fps, int | float) and isinstance(need, int | float) and fps < need


def camera_health(
    statuses: list[StatusRow],
    events_1h: dict[tuple[str, str], int],
    events_24h: dict[tuple[str, str], int],
    now: datetime,
    silent_after_s: float = SILENT_AFTER_S,
) -> list[CameraHealth]:
    """One line per camera known from a status message or from events, sorted by site and camera.
    State is `online`, `offline`, `silent` (online but no heartbeat lately) or `unknown` (events, no status)."""
    by_key = {(row.site, row.camera_id): row for row in statuses}
    keys = sorted(set(by_key) | set(events_1h) | set(events_24h))
    result = []
    for key in keys:
        row = by_key.get(key)
        if row is None:
            state, last_seen, since, heartbeat = "unknown", None, None, {}
        else:
            since = max(0.0, (now - row.last_seen).total_seconds())
            state = "silent" if row.state == "online" and since > silent_after_s else row.state
            last_seen, heartbeat = row.last_seen, dict(row.heartbeat or {})
        result.append(
            CameraHealth(
                site=key[0],
                camera_id=key[1],
                state=state,
                last_seen=last_seen,
                seconds_since=since,
                events_last_hour=events_1h.get(key, 0),
                events_per_hour_24h=round(events_24h.get(key, 0) / 24.0, 2),
                heartbeat=heartbeat,
            )
        )
    return result
