"""The review queue page: the open items the signed-in reviewer can take (not those they gave the first
confirmation of, nor those others hold a live claim on), filtered by camera, type and age, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console.deps import console, now, require
from central.console.event_time import event_time
from central.console.filters import AGE_LABELS, AgeParam, CameraParam, TypeParam, age_bounds
from central.console.records import clock_offsets
from central.console.roles import REVIEW
from central.console.sessions import LiveSession
from central.console.view import render
from central.review import service as review
from central.tables import Infraction

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class QueueItem:
    """What a queue lists of an item: its columns, its rule's name and its source, not its whole payload (a page of
    100 items loaded as whole rows spent most of the queue page's time decoding payloads and building objects)."""

    event_id: str
    type: str
    site: str
    camera_id: str
    started_at: datetime
    ended_at: datetime
    zone: str
    confidence: float
    redacted: bool
    review_state: str
    rule: str
    source: Any


QUEUE_COLUMNS = (
    Infraction.event_id,
    Infraction.type,
    Infraction.site,
    Infraction.camera_id,
    Infraction.started_at,
    Infraction.ended_at,
    Infraction.zone,
    Infraction.confidence,
    Infraction.redacted,
    Infraction.review_state,
    Infraction.payload["rule"]["name"].as_string(),
    Infraction.payload["source"],
)


def filtered_queue(session: Session, camera: str, kind: str, age: str, limit: int, reviewer: str) -> list[QueueItem]:
    """The open work `reviewer` can take (review.queue's for_reviewer), filtered."""
    older_than, newer_than = age_bounds(age, now())
    stmt = review.queue_statement(
        now=now(),
        camera_id=camera or None,
        type=kind or None,
        older_than=older_than,
        newer_than=newer_than,
        for_reviewer=reviewer,
    )
    # The page's ids first, then their columns: PostgreSQL works out a projection before it sorts, so taking the
    # rule's name out of every open item's JSON payload would cost more than the page.
    page = stmt.with_only_columns(Infraction.event_id, Infraction.started_at).limit(limit).subquery()
    rows = session.execute(
        select(*QUEUE_COLUMNS)
        .join(page, page.c.event_id == Infraction.event_id)
        .order_by(page.c.started_at, page.c.event_id)
    )
    return [
        QueueItem(
            event_id=row[0],
            type=row[1],
            site=row[2],
            camera_id=row[3],
            started_at=row[4],
            ended_at=row[5],
            zone=row[6],
            confidence=row[7],
            redacted=row[8],
            review_state=row[9],
            rule=row[10] or "",
            source=row[11],
        )
        for row in rows
    ]


@router.get("/queue", response_class=HTMLResponse)
def queue_page(
    request: Request,
    live: Annotated[LiveSession, Depends(require(REVIEW))],
    camera: CameraParam = "",
    type: TypeParam = "",
    age: AgeParam = "",
) -> HTMLResponse:
    ctx = console(request)
    with ctx.tx() as session:
        items = filtered_queue(session, camera, type, age, ctx.config.page_size, live.principal.username)
        cameras = list(session.scalars(select(Infraction.camera_id).distinct().order_by(Infraction.camera_id)))
        offsets = clock_offsets(session, {(inf.site, inf.camera_id) for inf in items})
    return render(
        request,
        "queue.html",
        live,
        items=items,
        whens={
            inf.event_id: event_time({"source": inf.source}, inf.started_at, offsets.get((inf.site, inf.camera_id)))
            for inf in items
        },
        cameras=cameras,
        camera=camera,
        kind=type,
        age=age,
        ages=AGE_LABELS,
        now=now(),
    )
