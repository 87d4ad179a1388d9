"""The review queue page: the open items the signed-in reviewer can take (not those they gave the first
confirmation of, nor those others hold a live claim on), filtered by camera, type and age, oldest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console.deps import console, now, require
from central.console.filters import AGE_LABELS, AgeParam, CameraParam, TypeParam, age_bounds
from central.console.records import clock_offsets, when_of
from central.console.roles import REVIEW
from central.console.sessions import LiveSession
from central.console.view import render
from central.review import service as review
from central.tables import Infraction

router = APIRouter(include_in_schema=False)


def filtered_queue(session: Session, camera: str, kind: str, age: str, limit: int, reviewer: str) -> list[Infraction]:
    """The open work `reviewer` can take (review.queue's for_reviewer), filtered."""
    older_than, newer_than = age_bounds(age, now())
    return list(
        review.queue(
            session,
            now=now(),
            camera_id=camera or None,
            type=kind or None,
            older_than=older_than,
            newer_than=newer_than,
            for_reviewer=reviewer,
            limit=limit,
        )
    )


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
        whens={inf.event_id: when_of(inf, offsets) for inf in items},
        cameras=cameras,
        camera=camera,
        kind=type,
        age=age,
        ages=AGE_LABELS,
        now=now(),
    )
