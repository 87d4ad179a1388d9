"""The accuracy page: overturn rate per camera and rule, with a small bar chart."""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console.deps import console, require
from central.console.overturns import EventSteps, OverturnRow, Step, overturn_rates, total
from central.console.roles import READ_ACCURACY
from central.console.sessions import LiveSession
from central.console.view import render
from central.review.tables import ReviewAction
from central.tables import Infraction

router = APIRouter(include_in_schema=False)


def load_overturns(session: Session) -> list[OverturnRow]:
    steps: dict[str, list[Step]] = defaultdict(list)
    for event_id, action, from_state in session.execute(
        select(ReviewAction.event_id, ReviewAction.action, ReviewAction.from_state).order_by(ReviewAction.id)
    ):
        steps[event_id].append(Step(action, from_state))
    events = []
    if steps:
        rows = session.execute(
            select(Infraction.event_id, Infraction.site, Infraction.camera_id, Infraction.payload).where(
                Infraction.event_id.in_(list(steps))
            )
        )
        for event_id, site, camera_id, payload in rows:
            rule = (payload.get("rule") or {}).get("name", "unknown")
            events.append(EventSteps(f"{site}/{camera_id}", rule, steps[event_id]))
    return overturn_rates(events)


@router.get("/accuracy", response_class=HTMLResponse)
def accuracy_page(request: Request, live: Annotated[LiveSession, Depends(require(READ_ACCURACY))]) -> HTMLResponse:
    with console(request).tx() as session:
        rows = load_overturns(session)
    return render(request, "accuracy.html", live, rows=rows, overall=total(rows))
