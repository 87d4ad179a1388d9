"""Camera health page and its query."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.console.deps import console, now, require
from central.console.health import CameraHealth, StatusRow, camera_health
from central.console.roles import READ_CAMERAS
from central.console.sessions import LiveSession
from central.console.view import render
from central.settings import CameraHealthSettings
from central.tables import CameraStatus, Infraction
from central.timeutil import as_utc

router = APIRouter(include_in_schema=False)


def _event_counts(session: Session, since: datetime) -> dict[tuple[str, str], int]:
    rows = session.execute(
        select(Infraction.site, Infraction.camera_id, func.count(Infraction.event_id))
        .where(Infraction.started_at >= since)
        .group_by(Infraction.site, Infraction.camera_id)
    )
    return {(site, camera): count for site, camera, count in rows}


def _replayed(session: Session, cameras: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The recorded file each camera's newest event came from, for the cameras that replay one."""
    found = {}
    for site, camera in cameras:
        payload = session.scalars(
            select(Infraction.payload)
            .where(Infraction.site == site, Infraction.camera_id == camera)
            .order_by(Infraction.started_at.desc())
            .limit(1)
        ).first()
        source = (payload or {}).get("source") or {}
        if source.get("kind") == "file" and isinstance(source.get("clip"), str):
            found[(site, camera)] = source["clip"]
    return found


def load_health(session: Session, at: datetime, limits: CameraHealthSettings) -> list[CameraHealth]:
    statuses = [
        StatusRow(row.site, row.camera_id, row.state, as_utc(row.last_seen), row.heartbeat)
        for row in session.scalars(select(CameraStatus))
    ]
    return camera_health(
        statuses,
        _event_counts(session, at - timedelta(hours=1)),
        _event_counts(session, at - timedelta(hours=24)),
        at,
        limits,
        _replayed(session, [(row.site, row.camera_id) for row in statuses if row.state == "offline"]),
    )


@router.get("/cameras", response_class=HTMLResponse)
def cameras_page(request: Request, live: Annotated[LiveSession, Depends(require(READ_CAMERAS))]) -> HTMLResponse:
    at = now()
    ctx = console(request)
    with ctx.tx() as session:
        health = load_health(session, at, ctx.settings.camera_health)
    return render(request, "cameras.html", live, cameras=health, now=at)
