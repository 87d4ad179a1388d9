"""/api/v1: the console's actions as JSON, under the same sessions and roles as the pages. Sign in with
POST /api/v1/session and send `Authorization: Bearer TOKEN`; a browser session cookie works too, with the
session's CSRF token in `X-CSRF-Token` on every change. Every review move (claim, decision, second review,
reassign, reopen, appeal decision) sends the item's `version` as read: a move on an item that has moved on
since is refused with 409, saying what changed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit, decisions
from central.console import schemas as s
from central.console.accounts import create_account
from central.console.accuracy import load_overturns
from central.console.audit_log import ActionParam, ActorParam, audit_csv, newest_entries
from central.console.auth import AuthError
from central.console.cameras import load_health
from central.console.deps import console, now, require, require_change
from central.console.evidence import evidence_response
from central.console.filters import AgeParam, CameraParam, RowId, TypeParam
from central.console.item import claim_and_decide, hand_over
from central.console.ledger import SiteParam, load_ledger
from central.console.login import attempt_sign_in
from central.console.password import API_PATH as PASSWORD_PATH
from central.console.password import change_own_password
from central.console.queue import filtered_queue
from central.console.records import EVENT_ID_PATTERN, ItemRecord, load_infraction, load_item
from central.console.roles import (
    ADMIN,
    ANYONE,
    FILE_APPEAL,
    READ_ACCURACY,
    READ_AUDIT,
    READ_CAMERAS,
    READ_EVIDENCE,
    READ_LEDGER,
    REVIEW,
    SUPERVISE,
)
from central.console.second_review_check import shared_creator_warning
from central.console.sessions import LiveSession, close_session
from central.ledger import service as ledger
from central.ledger.tables import Appeal
from central.review import service as review
from central.review.separation import second_review_barrier
from central.review.tables import Claim
from central.tables import Infraction
from central.user_accounts import ConsoleUser
from models.base import SHA256_PATTERN

ApiResponses = dict[int | str, dict[str, Any]]
ERRORS: ApiResponses = {
    401: {"description": "Not signed in"},
    403: {"description": "Role not allowed, or CSRF token missing with cookie auth"},
    422: {"description": "Invalid input"},
}
router = APIRouter(prefix="/api/v1", responses=ERRORS)
EventId = Annotated[str, Path(pattern=EVENT_ID_PATTERN, description="The event's UUID.")]
Digest = Annotated[str, Path(pattern=SHA256_PATTERN, description="sha256 of the evidence bytes.")]
Limit = Annotated[int, Query(ge=1, le=1000)]
REFUSED: ApiResponses = {
    409: {
        "description": "The review rules refuse this move now, or the item has moved on since the version sent "
        "(the message says what changed, when and by whom)"
    }
}
NOT_FOUND: ApiResponses = {404: {"description": "No such record"}}


def summary(inf: Infraction, version: int) -> s.InfractionSummary:
    return s.InfractionSummary(
        version=version,
        event_id=inf.event_id,
        type=inf.type,
        site=inf.site,
        camera_id=inf.camera_id,
        started_at=inf.started_at,
        ended_at=inf.ended_at,
        zone=inf.zone,
        confidence=inf.confidence,
        redacted=inf.redacted,
        review_state=inf.review_state,
        rule=(inf.payload.get("rule") or {}).get("name", ""),
    )


def detail(item: ItemRecord, warning: str | None) -> s.InfractionDetail:
    inf, payload = item.infraction, item.infraction.payload
    base = f"/api/v1/infractions/{inf.event_id}/evidence"
    return s.InfractionDetail(
        **summary(inf, len(item.history)).model_dump(),
        frame_start=payload.get("frame_start"),
        frame_end=payload.get("frame_end"),
        signal_phase=payload.get("signal_phase"),
        model=payload.get("model") or {},
        rule_trace=item.rule,
        message_schema=payload.get("schema"),
        trajectory=[{"x": x, "y": y} for x, y in item.trajectory],
        zone_polygon=item.zone_polygon,
        item_box=item.item_box,
        source=payload.get("source") if isinstance(payload.get("source"), dict) else None,
        evidence=[
            s.EvidenceOut(sha256=link.sha256, media_type=link.media_type, role=link.role, url=f"{base}/{link.sha256}")
            for link in item.clips + item.keyframes + item.item_crops
        ],
        claim=s.ClaimOut.model_validate(item.claim) if item.claim else None,
        history=[s.ReviewStepOut.model_validate(step) for step in item.history],
        warnings=[warning] if warning else [],
    )


@router.post(
    "/session",
    response_model=s.SessionOut,
    tags=["session"],
    responses={429: {"description": "Too many failed attempts from this address"}},
)
def sign_in(request: Request, body: s.LoginIn) -> s.SessionOut:
    """Sign in; the token works as a Bearer token until it expires or DELETE /api/v1/session."""
    ctx = console(request)
    attempt = attempt_sign_in(request, body.username, body.password, via="api")
    outcome = attempt.outcome
    if outcome.locked_out:
        raise HTTPException(429, "too many failed attempts; try again later")
    if outcome.user is None:
        raise HTTPException(401, "wrong username or password")
    return s.SessionOut(
        token=attempt.token,
        csrf_token=attempt.csrf,
        username=outcome.user.username,
        role=outcome.user.role,
        expires_at=attempt.at + timedelta(seconds=ctx.config.session_ttl_s),
    )


@router.delete("/session", status_code=204, tags=["session"])
def sign_out(
    request: Request, live: Annotated[LiveSession, Depends(require_change(ANYONE, password_due_ok=True))]
) -> Response:
    with console(request).tx() as session:
        close_session(session, live.token_hash)
        audit.record(session, live.principal.username, "logout", details={"via": "api"})
    return Response(status_code=204)


@router.post(
    PASSWORD_PATH.removeprefix(router.prefix),
    status_code=204,
    tags=["session"],
    responses={422: {"description": "Refused: wrong current password, or a new one too weak (message says why)"}},
)
def change_my_password(
    request: Request,
    body: s.PasswordChangeIn,
    live: Annotated[LiveSession, Depends(require_change(ANYONE, password_due_ok=True))],
) -> Response:
    """Replace one's own password; a one-time password must be replaced so before any other call. Every other
    session of the user is signed out."""
    try:
        change_own_password(request, live, body.current, body.new)
    except AuthError as exc:
        raise HTTPException(422, str(exc)) from None
    return Response(status_code=204)


@router.get("/me", response_model=s.MeOut, tags=["session"])
def me(live: Annotated[LiveSession, Depends(require(ANYONE))]) -> s.MeOut:
    return s.MeOut(username=live.principal.username, role=live.principal.role)


@router.get("/queue", response_model=list[s.InfractionSummary], tags=["review"])
def get_queue(
    request: Request,
    live: Annotated[LiveSession, Depends(require(REVIEW))],
    camera: CameraParam = "",
    type: TypeParam = "",
    age: AgeParam = "",
    limit: Limit = 100,
) -> list[s.InfractionSummary]:
    """Open items you can take (pending, or awaiting a second review that is not of your own confirmation;
    none that another reviewer holds a live claim on), oldest first."""
    with console(request).tx() as session:
        items = filtered_queue(session, camera, type, age, limit, live.principal.username)
        versions = review.versions(session, [inf.event_id for inf in items])
        return [
            s.InfractionSummary(
                **{name: getattr(inf, name) for name in s.InfractionSummary.model_fields if hasattr(inf, name)},
                version=versions[inf.event_id],
            )
            for inf in items
        ]


@router.get("/infractions/{event_id}", response_model=s.InfractionDetail, tags=["review"], responses=NOT_FOUND)
def get_infraction(
    request: Request, event_id: EventId, live: Annotated[LiveSession, Depends(require(READ_EVIDENCE))]
) -> s.InfractionDetail:
    with console(request).tx() as session:
        item = load_item(session, event_id)
        warning = shared_creator_warning(session, item.history)
        return detail(item, warning or second_review_barrier(session, item.infraction, live.principal.actor))


@router.get(
    "/infractions/{event_id}/evidence/{sha256}",
    tags=["review"],
    response_class=StreamingResponse,
    responses={
        200: {"content": {"image/jpeg": {}, "video/webm": {}, "video/mp4": {}}, "description": "The evidence bytes"},
        **NOT_FOUND,
        410: {"description": "Purged under the retention policy"},
    },
)
def get_evidence(
    request: Request, event_id: EventId, sha256: Digest, live: Annotated[LiveSession, Depends(require(READ_EVIDENCE))]
) -> Response:
    """Redacted evidence bytes; every view is written to the audit log."""
    return evidence_response(request, live, event_id, sha256)


def claimed(session: Session, held: Claim) -> s.ClaimedOut:
    return s.ClaimedOut(
        event_id=held.event_id,
        reviewer=held.reviewer,
        expires_at=held.expires_at,
        version=review.version(session, held.event_id),
    )


def state_out(session: Session, inf: Infraction) -> s.StateOut:
    return s.StateOut(
        event_id=inf.event_id, review_state=inf.review_state, version=review.version(session, inf.event_id)
    )


@router.post(
    "/infractions/{event_id}/claim", response_model=s.ClaimedOut, tags=["review"], responses={**REFUSED, **NOT_FOUND}
)
def post_claim(
    request: Request,
    event_id: EventId,
    body: s.ClaimIn,
    live: Annotated[LiveSession, Depends(require_change(REVIEW))],
) -> s.ClaimedOut:
    """Claim the item (or renew your own claim, which leaves its version as it is)."""
    ctx = console(request)
    with ctx.tx() as session:
        held = review.claim(
            session,
            load_infraction(session, event_id).event_id,
            live.principal.actor,
            now(),
            ctx.settings,
            version=body.version,
        )
        return claimed(session, held)


@router.post(
    "/infractions/{event_id}/release", response_model=s.StateOut, tags=["review"], responses={**REFUSED, **NOT_FOUND}
)
def post_release(
    request: Request, event_id: EventId, live: Annotated[LiveSession, Depends(require_change(REVIEW))]
) -> s.StateOut:
    with console(request).tx() as session:
        inf = load_infraction(session, event_id)
        review.release(session, inf.event_id, live.principal.username, now())
        return state_out(session, inf)


@router.post(
    "/infractions/{event_id}/decision", response_model=s.StateOut, tags=["review"], responses={**REFUSED, **NOT_FOUND}
)
def post_decision(
    request: Request,
    event_id: EventId,
    body: s.DecisionIn,
    live: Annotated[LiveSession, Depends(require_change(REVIEW))],
) -> s.StateOut:
    """The first review: confirm or reject (claiming the item first if it is free). A confirmation naming a
    subject worth more than the second-review threshold waits for a second, different reviewer. An item
    awaiting its second review is refused (409): that decision is a second review."""
    return _decided(request, event_id, live, body, second=False)


@router.post(
    "/infractions/{event_id}/second-review",
    response_model=s.StateOut,
    tags=["review"],
    responses={**REFUSED, **NOT_FOUND},
)
def post_second_review(
    request: Request,
    event_id: EventId,
    body: s.SecondReviewIn,
    live: Annotated[LiveSession, Depends(require_change(REVIEW))],
) -> s.StateOut:
    """The second review of a first reviewer's confirmation (claiming the item first if it is free), by a
    different reviewer: confirm writes the deduction, reject deducts nothing. An item in its first review is
    refused (409)."""
    return _decided(request, event_id, live, body, second=True)


def _decided(
    request: Request, event_id: str, live: LiveSession, body: s.DecisionIn | s.SecondReviewIn, *, second: bool
) -> s.StateOut:
    ctx = console(request)
    with ctx.tx() as session:
        claim_and_decide(
            session,
            event_id,
            live,
            body.decision,
            body.reason,
            body.note,
            body.subject_ref or None,
            ctx.settings,
            version=body.version,
            second=second,
        )
        return state_out(session, load_infraction(session, event_id))


@router.post(
    "/infractions/{event_id}/reassign",
    response_model=s.ClaimedOut,
    tags=["supervision"],
    responses={**REFUSED, **NOT_FOUND},
)
def post_reassign(
    request: Request,
    event_id: EventId,
    body: s.ReassignIn,
    live: Annotated[LiveSession, Depends(require_change(SUPERVISE))],
) -> s.ClaimedOut:
    ctx = console(request)
    with ctx.tx() as session:
        held = hand_over(
            session,
            load_infraction(session, event_id).event_id,
            live,
            body.to_reviewer,
            ctx.settings,
            version=body.version,
        )
        return claimed(session, held)


@router.post(
    "/infractions/{event_id}/reopen",
    response_model=s.StateOut,
    tags=["supervision"],
    responses={**REFUSED, **NOT_FOUND},
)
def post_reopen(
    request: Request,
    event_id: EventId,
    body: s.ReopenIn,
    live: Annotated[LiveSession, Depends(require_change(SUPERVISE))],
) -> s.StateOut:
    with console(request).tx() as session:
        inf = load_infraction(session, event_id)
        decisions.reopen(session, inf.event_id, live.principal.actor, body.reason, now(), version=body.version)
        return state_out(session, inf)


@router.get("/ledger", response_model=s.LedgerOut, tags=["ledger"])
def get_ledger(
    request: Request, live: Annotated[LiveSession, Depends(require(READ_LEDGER))], site: SiteParam = ""
) -> s.LedgerOut:
    """The most recent entries (of one site when given). A subject's entries: POST /api/v1/ledger/search; a
    subject reference in a URL is refused (400)."""
    return _ledger_out(request, "", site)


@router.post("/ledger/search", response_model=s.LedgerOut, tags=["ledger"])
def search_ledger(
    request: Request, body: s.LedgerSearchIn, live: Annotated[LiveSession, Depends(require_change(READ_LEDGER))]
) -> s.LedgerOut:
    """A subject's entries and balance per site: the reference in the body, so that it stays out of URLs and
    access logs. A read, but a POST: with the cookie it needs the X-CSRF-Token header like every POST."""
    return _ledger_out(request, body.subject, body.site)


def _ledger_out(request: Request, subject: str, site: str) -> s.LedgerOut:
    ctx = console(request)
    with ctx.tx() as session:
        view = load_ledger(session, subject, site, ctx.settings)
    return s.LedgerOut(
        entries=[s.LedgerEntryOut.model_validate(e) for e in view.entries],
        balances=view.balances,
        chain_problems=view.chain_problems,
    )


@router.post("/ledger/{seq}/appeals", response_model=s.AppealOut, status_code=201, tags=["ledger"], responses=REFUSED)
def post_appeal(
    request: Request, seq: RowId, body: s.AppealIn, live: Annotated[LiveSession, Depends(require_change(FILE_APPEAL))]
) -> s.AppealOut:
    ctx = console(request)
    with ctx.tx() as session:
        appeal = ledger.open_appeal(session, seq, live.principal.username, body.reason, now(), ctx.settings)
        return appeals_out(session, [appeal])[0]


def appeals_out(session: Session, appeals: list[Appeal]) -> list[s.AppealOut]:
    """Each appeal with its item's version (send it with the decision)."""
    versions = review.versions(session, sorted({a.event_id for a in appeals}))
    return [s.AppealOut.model_validate(a).model_copy(update={"item_version": versions[a.event_id]}) for a in appeals]


@router.get("/appeals", response_model=list[s.AppealOut], tags=["ledger"])
def get_appeals(
    request: Request,
    live: Annotated[LiveSession, Depends(require(READ_LEDGER))],
    state: Annotated[Literal["", "open", "upheld", "reversed"], Query()] = "",
) -> list[s.AppealOut]:
    with console(request).tx() as session:
        return appeals_out(session, ledger.appeals(session, state or None))


@router.post("/appeals/{appeal_id}/decision", response_model=s.AppealOut, tags=["ledger"], responses=REFUSED)
def post_appeal_decision(
    request: Request,
    appeal_id: RowId,
    body: s.AppealDecisionIn,
    live: Annotated[LiveSession, Depends(require_change(SUPERVISE))],
) -> s.AppealOut:
    """Uphold the deduction, or reverse it with a new ledger entry; `version` is the appealed item's."""
    ctx = console(request)
    with ctx.tx() as session:
        appeal = ledger.decide_appeal(
            session,
            appeal_id,
            live.principal.actor,
            body.outcome == "uphold",
            body.reason,
            body.note,
            now(),
            ctx.settings,
            version=body.version,
        )
        return appeals_out(session, [appeal])[0]


@router.get("/audit", response_model=list[s.AuditOut], tags=["audit"])
def get_audit(
    request: Request,
    live: Annotated[LiveSession, Depends(require(READ_AUDIT))],
    actor: ActorParam = "",
    action: ActionParam = "",
    limit: Limit = 300,
) -> list[s.AuditOut]:
    """Newest first."""
    with console(request).tx() as session:
        return [s.AuditOut.model_validate(e) for e in newest_entries(session, actor, action, limit)]


@router.get(
    "/audit.csv",
    tags=["audit"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The log as CSV, oldest first"}},
)
def get_audit_csv(
    request: Request,
    live: Annotated[LiveSession, Depends(require(READ_AUDIT))],
    actor: ActorParam = "",
    action: ActionParam = "",
) -> Response:
    return audit_csv(request, live, actor, action)


@router.get("/cameras", response_model=list[s.CameraOut], tags=["cameras"])
def get_cameras(request: Request, live: Annotated[LiveSession, Depends(require(READ_CAMERAS))]) -> list[s.CameraOut]:
    ctx = console(request)
    with ctx.tx() as session:
        return [s.CameraOut.model_validate(c) for c in load_health(session, now(), ctx.settings.camera_health)]


@router.get("/accuracy", response_model=list[s.OverturnOut], tags=["accuracy"])
def get_accuracy(
    request: Request, live: Annotated[LiveSession, Depends(require(READ_ACCURACY))]
) -> list[s.OverturnOut]:
    with console(request).tx() as session:
        return [s.OverturnOut.model_validate(row) for row in load_overturns(session)]


@router.get("/users", response_model=list[s.UserOut], tags=["admin"])
def get_users(request: Request, live: Annotated[LiveSession, Depends(require(ADMIN))]) -> list[s.UserOut]:
    with console(request).tx() as session:
        return [
            s.UserOut.model_validate(u) for u in session.scalars(select(ConsoleUser).order_by(ConsoleUser.username))
        ]


@router.post("/users", response_model=s.UserCreatedOut, status_code=201, tags=["admin"], responses=REFUSED)
def post_user(
    request: Request, body: s.UserIn, live: Annotated[LiveSession, Depends(require_change(ADMIN))]
) -> s.UserCreatedOut:
    """Add an account with a one-time password, returned here once."""
    try:
        with console(request).tx() as session:
            user, password = create_account(session, live.principal.username, body.username, body.role)
            return s.UserCreatedOut(**s.UserOut.model_validate(user).model_dump(), one_time_password=password)
    except AuthError as exc:
        raise HTTPException(409, str(exc)) from None
