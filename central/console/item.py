"""The item page (evidence, overlay, rule trace, history) and its actions: claim, release, decide (the first
review), second review, reassign, reopen. Every form carries the item's version as the page showed it (hidden
field `version`), so a move on an item that changed since is refused (409, the page again with what changed).
Review rules live in central.review.service and central.decisions; this module turns their answers into pages."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import decisions
from central.console.deps import console, now, require, require_change
from central.console.evidence import evidence_response
from central.console.filters import NO_NUL
from central.console.records import EVENT_ID_PATTERN, load_infraction, load_item
from central.console.refusals import shown_on
from central.console.roles import READ_EVIDENCE, REVIEW, SUPERVISE
from central.console.second_review_check import shared_creator_warning
from central.console.sessions import LiveSession
from central.console.view import render
from central.review import service as review
from central.review.errors import ReviewError
from central.review.separation import second_review_barrier
from central.review.tables import Claim
from central.settings import CentralSettings
from central.stored_check import infraction_breaches
from central.timeutil import as_utc
from central.user_accounts import ConsoleUser, fold_username
from models.base import SHA256_PATTERN

router = APIRouter(include_in_schema=False)
EventId = Annotated[str, Path(pattern=EVENT_ID_PATTERN)]
Digest = Annotated[str, Path(pattern=SHA256_PATTERN)]
OPEN_STATES = ("pending", "in_review", "awaiting_second", "second_review")
SECOND_STATES = ("awaiting_second", "second_review")
VersionField = Annotated[int, Form(ge=0, description="The item's version as the page showed it.")]
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


def next_in_queue(session: Session, event_id: str, reviewer: str) -> str | None:
    """The oldest open item other than `event_id` that `reviewer` can take."""
    for candidate in review.queue(session, now=now(), for_reviewer=reviewer, limit=2):
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
        next_id = next_in_queue(session, item.infraction.event_id, live.principal.username)
        warning = shared_creator_warning(session, item.history) or second_review_barrier(
            session, item.infraction, live.principal.actor
        )
    state = item.infraction.review_state
    claim_live = item.claim is not None and as_utc(item.claim.expires_at) > at
    mine = claim_live and item.claim is not None and item.claim.reviewer == live.principal.username
    reviewer = live.principal.role in REVIEW
    second = state in SECOND_STATES
    referral = first_review(item.history) if second else None
    own_referral = referral is not None and referral.actor == live.principal.username
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
        version=len(item.history),
        second=second,
        referral=referral,
        own_referral=own_referral,
        can_decide=reviewer and state in OPEN_STATES and (mine or not claim_live) and not own_referral,
        can_claim=reviewer and state in OPEN_STATES and not claim_live and not own_referral,
    )


def first_review(history: list[Any]) -> Any | None:
    """The first reviewer's confirmation that the item's second review is about: the newest referral since the
    item was last reopened."""
    start = max((i + 1 for i, step in enumerate(history) if step.action == "reopen"), default=0)
    return next((step for step in reversed(history[start:]) if step.action == "refer"), None)


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


def hand_over(
    session: Session, event_id: str, live: LiveSession, to_reviewer: str, settings: CentralSettings, *, version: int
) -> Claim:
    """A supervisor's reassignment, the form's and the API's: only ever to an active account that reviews."""
    return review.reassign(
        session,
        event_id,
        live.principal.actor,
        require_reviewer(session, to_reviewer),
        now(),
        settings,
        version=version,
    )


def claim_and_decide(
    session: Session,
    event_id: str,
    live: LiveSession,
    decision: Literal["confirm", "reject"],
    reason: str,
    note: str,
    subject_ref: str | None,
    settings: CentralSettings,
    *,
    version: int,
    second: bool,
) -> str:
    """Claim (or renew one's own claim) and decide in one transaction, so pressing `c` on an unclaimed item
    works and two reviewers can never both decide it: the claim refuses whoever does not hold it, and a
    decision made on an older `version` of the item than the stored one. `second`: the decision is the
    second review of a first reviewer's confirmation (refused on an item in its first review, and the other
    way round)."""
    at = now()
    event_id = load_infraction(session, event_id).event_id
    actor = live.principal.actor
    review.claim(session, event_id, actor, at, settings, version=version)
    make = decisions.second_review if second else decisions.decide
    return make(session, event_id, actor, decision, reason, note, subject_ref, at, settings)


DecisionField = Annotated[Literal["confirm", "reject"], Form()]
ReasonField = Annotated[str, Form(max_length=120, pattern=NO_NUL)]
NoteField = Annotated[str, Form(max_length=20_000, pattern=NO_NUL)]
SubjectField = Annotated[str, Form(max_length=64, pattern=NO_NUL)]


@router.post("/items/{event_id}/decision", dependencies=[ON_REFUSAL])
def decide(
    request: Request,
    event_id: EventId,
    live: Annotated[LiveSession, Depends(require_change(REVIEW))],
    decision: DecisionField,
    reason: ReasonField,
    version: VersionField,
    note: NoteField = "",
    subject_ref: SubjectField = "",
) -> Response:
    """The first review."""
    return _decided(request, event_id, live, decision, reason, note, subject_ref, version, second=False)


@router.post("/items/{event_id}/second-review", dependencies=[ON_REFUSAL])
def second_review(
    request: Request,
    event_id: EventId,
    live: Annotated[LiveSession, Depends(require_change(REVIEW))],
    decision: DecisionField,
    reason: ReasonField,
    version: VersionField,
    note: NoteField = "",
    subject_ref: SubjectField = "",
) -> Response:
    """The second review of a first reviewer's confirmation."""
    return _decided(request, event_id, live, decision, reason, note, subject_ref, version, second=True)


def _decided(
    request: Request,
    event_id: str,
    live: LiveSession,
    decision: Literal["confirm", "reject"],
    reason: str,
    note: str,
    subject_ref: str,
    version: int,
    *,
    second: bool,
) -> Response:
    ctx = console(request)
    with ctx.tx() as session:
        state = claim_and_decide(
            session,
            event_id,
            live,
            decision,
            reason,
            note,
            subject_ref.strip() or None,
            ctx.settings,
            version=version,
            second=second,
        )
        next_id = next_in_queue(session, event_id, live.principal.username)
    return _after(event_id, str(state), next_id)


@router.post("/items/{event_id}/claim", dependencies=[ON_REFUSAL])
def claim(
    request: Request,
    event_id: EventId,
    live: Annotated[LiveSession, Depends(require_change(REVIEW))],
    version: VersionField,
) -> Response:
    ctx = console(request)
    with ctx.tx() as session:
        review.claim(session, event_id.lower(), live.principal.actor, now(), ctx.settings, version=version)
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
    version: VersionField,
) -> Response:
    ctx = console(request)
    with ctx.tx() as session:
        hand_over(session, event_id.lower(), live, to_reviewer, ctx.settings, version=version)
    return _after(event_id, "reassigned")


@router.post("/items/{event_id}/reopen", dependencies=[ON_REFUSAL])
def reopen(
    request: Request,
    event_id: EventId,
    live: Annotated[LiveSession, Depends(require_change(SUPERVISE))],
    reason: Annotated[str, Form(min_length=1, max_length=120, pattern=NO_NUL)],
    version: VersionField,
) -> Response:
    with console(request).tx() as session:
        decisions.reopen(session, event_id.lower(), live.principal.actor, reason, now(), version=version)
    return _after(event_id, "pending")
