"""The appeals page: every appeal, open ones first, and the supervisor's decision on each. A decision's form
carries the version of the appealed item as the page showed it: one made on an item that changed since is
refused (409) with what changed."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from central.console.deps import console, now, require, require_change
from central.console.filters import NO_NUL, RowId
from central.console.refusals import shown_on
from central.console.roles import READ_LEDGER, SUPERVISE
from central.console.sessions import LiveSession
from central.console.view import render
from central.ledger import service as ledger
from central.ledger.tables import LedgerEntry
from central.review import service as review

router = APIRouter(include_in_schema=False)
DONE = {
    "filed": "Appeal filed; a supervisor who took no part in the deduction decides it.",
    "decided": "Appeal decided.",
}


def appeals_page(
    request: Request, live: LiveSession, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = console(request)
    with ctx.tx() as session:
        appeals = sorted(ledger.appeals(session), key=lambda a: (a.state != "open", -a.id))
        entries = {a.entry_seq: session.get(LedgerEntry, a.entry_seq) for a in appeals}
        versions = review.versions(session, sorted({a.event_id for a in appeals if a.state == "open"}))
    return render(
        request,
        "appeals.html",
        live,
        status_code=status_code,
        appeals=appeals,
        entries=entries,
        versions=versions,
        error=error,
        grant_reasons=ctx.settings.appeal_reasons(grant=True),
        refuse_reasons=ctx.settings.appeal_reasons(grant=False),
        can_decide=live.principal.role in SUPERVISE,
        message=DONE.get(request.query_params.get("done", "")),
    )


def refused(request: Request, live: LiveSession, message: str) -> HTMLResponse:
    return appeals_page(request, live, error=message, status_code=409)


@router.get("/appeals", response_class=HTMLResponse)
def appeals_view(request: Request, live: Annotated[LiveSession, Depends(require(READ_LEDGER))]) -> HTMLResponse:
    return appeals_page(request, live)


@router.post("/appeals/{appeal_id}/decision", dependencies=[shown_on(refused)])
def decide_appeal(
    request: Request,
    appeal_id: RowId,
    live: Annotated[LiveSession, Depends(require_change(SUPERVISE))],
    outcome: Annotated[Literal["uphold", "reverse"], Form()],
    reason: Annotated[str, Form(max_length=120, pattern=NO_NUL)],
    version: Annotated[int, Form(ge=0, description="The appealed item's version as the page showed it.")],
    note: Annotated[str, Form(max_length=20_000, pattern=NO_NUL)] = "",
) -> Response:
    ctx = console(request)
    with ctx.tx() as session:
        ledger.decide_appeal(
            session,
            appeal_id,
            live.principal.actor,
            outcome == "uphold",
            reason,
            note,
            now(),
            ctx.settings,
            version=version,
        )
    return RedirectResponse(f"/appeals?done=decided#appeal-{appeal_id}", status_code=303)
