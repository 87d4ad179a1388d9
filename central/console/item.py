"""The item page (evidence, overlay, rule trace, history) and its actions: claim, release, decide, reassign,
reopen. Review rules live in central.review.service; this module turns its answers into pages."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.console.auth import fold_username
from central.console.deps import console, now, require, require_change
from central.console.evidence import evidence_response
from central.console.filters import NO_NUL
from central.console.records import EVENT_ID_PATTERN, load_infraction, load_item
from central.console.refusals import shown_on
from central.console.roles import READ_EVIDENCE, REVIEW, SUPERVISE
from central.console.second_review_check import shared_creator_warning
from central.console.sessions import LiveSession
from central.console.tables import ConsoleUser
from central.console.view import render
from central.review import service as review
from central.review.errors import ReviewError
from central.review.separation import second_review_barrier
from central.settings import CentralSettings
from central.stored_check import infraction_breaches
from central.timeutil import as_utc
from models.base import SHA256_PATTERN

router = APIRouter(include_in_schema=False)
EventId = Annotated[str, Path(pattern=EVENT_ID_PATTERN)]
Digest = Annotated[str, Path(pattern=SHA256_PATTERN)]
OPEN_STATES = ("pending", "in_review", "awaiting_second", "second_review")
MESSAGES = {
    "confirmed": "Confirmed.",
    "awaiting_second": "Confirmed; it now waits for a second reviewer.",
    "rejected": "Rejected.",
    "claimed": "Claimed: the item is yours until the claim expires.",
    "released": "Released back to the queue.",
    "reassigned": "Reassigned.",
    "pending": "Reopened for review.",
}


def require_reviewer(session: Session, name: str) -> str:
    """Work can only be handed to an active account that reviews."""
    found = session.scalar(
        select(ConsoleUser.username).where(
            ConsoleUser.username_key == fold_username(name),
            ConsoleUser.active.is_(True),
            ConsoleUser.role.in_(sorted(REVIEW)),
        )
    )
    if found is None:
        raise ReviewError(f"{name!r} is not an active reviewer or supervisor")
    return found


def next_in_queue(session: Session, event_id: str) -> str | None:
    for candidate in review.queue(session, now=now(), limit=2):
        if candidate.event_id != event_id:
            return candidate.event_id
    return None


def item_page(
    request: Request, live: LiveSession, event_id: str, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = console(request)
    at = now()
    with ctx.tx() as session:
        item = load_item(session, event_id)
        reviewers = list(
            session.scalars(
                select(ConsoleUser.username)
                .where(ConsoleUser.role.in_(sorted(REVIEW)), ConsoleUser.active.is_(True))
                .order_by(ConsoleUser.username)
            )
        )
        next_id = next_in_queue(session, item.infraction.event_id)
        warning = shared_creator_warning(session, item.history) or second_review_barrier(
            session, item.infraction, live.principal.actor
        )
    state = item.infraction.review_state
    claim_live = item.claim is not None and as_utc(item.claim.expires_at) > at
    mine = claim_live and item.claim is not None and item.claim.reviewer == live.principal.username
    reviewer = live.principal.role in REVIEW
    message = MESSAGES.get(request.query_params.get("done", ""))
    prev_param = request.query_params.get("prev", "")
    previous = prev_param if message and re.fullmatch(EVENT_ID_PATTERN, prev_param) else None
    return render(
        request,
        "item.html",
        live,
        status_code=status_code,
        item=item,
        error=error,
        warning=warning,
        breaches=infraction_breaches(item.infraction),
        message=message,
        previous=previous,
        next_id=next_id,
        settings=ctx.settings,
        reviewers=reviewers,
        reviewer=reviewer,
        supervisor=live.principal.role in SUPERVISE,
        claim_live=claim_live,
        mine=mine,
        can_decide=reviewer and state in OPEN_STATES and (mine or not claim_live),
        can_claim=reviewer and state in OPEN_STATES and not claim_live,
    )


def refused(request: Request, live: LiveSession, message: str) -> HTMLResponse:
    return item_page(request, live, request.path_params["event_id"], error=message, status_code=409)


ON_REFUSAL = shown_on(refused)


@router.get("/items/{event_id}", response_class=HTMLResponse)
def show(
    request: Request, event_id: EventId, live: Annotated[LiveSession, Depends(require(READ_EVIDENCE))]
) -> HTMLResponse:
    return item_page(request, live, event_id)


@router.get("/items/{event_id}/evidence/{sha256}")
def evidence(
    request: Request, event_id: EventId, sha256: Digest, live: Annotated[LiveSession, Depends(require(READ_EVIDENCE))]
) -> Response:
    return evidence_response(request, live, event_id, sha256)


def _after(event_id: str, done: str, next_id: str | None = None) -> RedirectResponse:
    """Back to the item, or on to the next one after a decision (the notice then links back)."""
    if next_id and next_id != event_id:
        return RedirectResponse(f"/items/{next_id}?done={done}&prev={event_id}", status_code=303)
    return RedirectResponse(f"/items/{event_id}?done={done}", status_code=303)


def claim_and_decide(
    session: Session,
    event_id: str,
    live: LiveSession,
    decision: Literal["confirm", "reject"],
    reason: str,
    note: str,
    subject_ref: str | None,
    settings: CentralSettings,
) -> str:
    """Claim (or renew one's own claim) and decide in one transaction, so pressing `c` on an unclaimed item
    works and two reviewers can never both decide it: the claim refuses whoever does not hold it."""
    at = now()
    event_id = load_infraction(session, event_id).event_id
    actor = live.principal.actor
    review.claim(session, event_id, actor, at, settings)
    return review.decide(session, event_id, actor, decision, reason, note, subject_ref, at, settings)


@router.post("/items/{event_id}/decision", dependencies=[ON_REFUSAL])
def decide(
    request: Request,
    event_id: EventId,
    live: Annotated[LiveSession, Depends(require_change(REVIEW))],
    decision: Annotated[Literal["confirm", "reject"], Form()],
    reason: Annotated[str, Form(max_length=120, pattern=NO_NUL)],
    note: Annotated[str, Form(max_length=20_000, pattern=NO_NUL)] = "",
    subject_ref: Annotated[str, Form(max_length=64, pattern=NO_NUL)] = "",
) -> Response:
    ctx = console(request)
    with ctx.tx() as session:
        state = claim_and_decide(
            session, event_id, live, decision, reason, note, subject_ref.strip() or None, ctx.settings
        )
        next_id = next_in_queue(session, event_id)
    return _after(event_id, str(state), next_id)


@router.post("/items/{event_id}/claim", dependencies=[ON_REFUSAL])
def claim(
    request: Request, event_id: EventId, live: Annotated[LiveSession, Depends(require_change(REVIEW))]
) -> Response:
    ctx = console(request)
    with ctx.tx() as session:
        review.claim(session, event_id.lower(), live.principal.actor, now(), ctx.settings)
    return _after(event_id, "claimed")


@router.post("/items/{event_id}/release", dependencies=[ON_REFUSAL])
def release(
    request: Request, event_id: EventId, live: Annotated[LiveSession, Depends(require_change(REVIEW))]
) -> Response:
    with console(request).tx() as session:
        review.release(session, event_id.lower(), live.principal.username, now())
    return _after(event_id, "released")


@router.post("/items/{event_id}/reassign", dependencies=[ON_REFUSAL])
def reassign(
    request: Request,
    event_id: EventId,
    live: Annotated[LiveSession, Depends(require_change(SUPERVISE))],
    to_reviewer: Annotated[str, Form(max_length=64, pattern=NO_NUL)],
) -> Response:
    ctx = console(request)
    with ctx.tx() as session:
        review.reassign(
            session,
            event_id.lower(),
            live.principal.actor,
            require_reviewer(session, to_reviewer),
            now(),
            ctx.settings,
        )
    return _after(event_id, "reassigned")


@router.post("/items/{event_id}/reopen", dependencies=[ON_REFUSAL])
def reopen(
    request: Request,
    event_id: EventId,
    live: Annotated[LiveSession, Depends(require_change(SUPERVISE))],
    reason: Annotated[str, Form(min_length=1, max_length=120, pattern=NO_NUL)],
) -> Response:
    with console(request).tx() as session:
        review.reopen(session, event_id.lower(), live.principal.actor, reason, now())
    return _after(event_id, "pending")
