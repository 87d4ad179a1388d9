"""The "Litter on the ground" page: per camera, the littering events whose item the camera last saw still there
(or stopped watching while it was), for whoever sends the street crews. Nothing on it says who dropped or who
removed anything: the list is about the pavement."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from central.console.deps import console, now, require
from central.console.item_life import litter_on_the_ground
from central.console.roles import READ_LITTER
from central.console.sessions import LiveSession
from central.console.view import render

router = APIRouter(include_in_schema=False)


@router.get("/litter", response_class=HTMLResponse)
def litter_page(request: Request, live: Annotated[LiveSession, Depends(require(READ_LITTER))]) -> HTMLResponse:
    at, days = now(), console(request).settings.litter_item_days
    with console(request).tx() as session:
        cameras = litter_on_the_ground(session, at - timedelta(days=days))
    return render(request, "litter.html", live, cameras=cameras, now=at, days=days)
