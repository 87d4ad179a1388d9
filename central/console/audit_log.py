"""The audit log page (newest first, filtered) and its CSV export; exporting is itself audited."""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit
from central.audit import AuditEntry
from central.console.deps import console, require
from central.console.roles import READ_AUDIT
from central.console.sessions import LiveSession
from central.console.view import render

router = APIRouter(include_in_schema=False)
ACTOR_PATTERN = r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})?$"
ACTION_PATTERN = r"^([a-z][a-z_.]{0,47})?$"
ActorParam = Annotated[str, Query(pattern=ACTOR_PATTERN, max_length=64, description="Who acted; empty for all.")]
ActionParam = Annotated[
    str, Query(pattern=ACTION_PATTERN, max_length=48, description='Action, or a prefix ending in "." (review.).')
]
PAGE = 300


def newest_entries(session: Session, actor: str, action: str, limit: int = PAGE) -> list[AuditEntry]:
    stmt = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if action:
        stmt = stmt.where(
            AuditEntry.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else AuditEntry.action == action
        )
    return list(session.scalars(stmt))


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    live: Annotated[LiveSession, Depends(require(READ_AUDIT))],
    actor: ActorParam = "",
    action: ActionParam = "",
) -> HTMLResponse:
    with console(request).tx() as session:
        rows = newest_entries(session, actor, action)
        problems = audit.verify(session)
    return render(request, "audit.html", live, rows=rows, actor=actor, action=action, problems=problems, page=PAGE)


def audit_csv(request: Request, live: LiveSession, actor: str, action: str) -> Response:
    out = io.StringIO()
    filters = {key: value for key, value in (("actor", actor), ("action", action)) if value}
    with console(request).tx() as session:
        count = audit.export_csv(session, out, **filters)
        audit.record(session, live.principal.username, "audit.export", details={"rows": count, **filters})
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="curbwatch-audit.csv"'},
    )


@router.get("/audit.csv")
def audit_export(
    request: Request,
    live: Annotated[LiveSession, Depends(require(READ_AUDIT))],
    actor: ActorParam = "",
    action: ActionParam = "",
) -> Response:
    return audit_csv(request, live, actor, action)
