"""The review workflow on stored infractions: queue, expiring claims, decisions, second review,
supervisor moves. Every function works in the caller's transaction and takes `now` (aware UTC).

Every move takes the item's `version` as the client read it (central.review.moves): a move made on an item
that has moved on since is refused with ItemChanged, saying what changed. None checks nothing, for callers
that act on what they read in the same transaction. A second review is its own step, `second_review()`:
`decide()` is the first review only, so a confirmation meant for a pending item never becomes the second
confirmation of another reviewer's referral.

Roles (central.review.roles): claiming and deciding need reviewer, supervisor or admin; reassigning and
reopening need supervisor or admin. Who-rules (claim holder, second reviewer differs from the first) are
checked here too, so no client can skip them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from central.db import rows_changed
from central.ledger import catalogue
from central.ledger import service as ledger
from central.ledger.subject import validate_subject_ref
from central.review import separation
from central.review.errors import ReviewError
from central.review.moves import (
    ItemChanged,
    check_version,
    current_round,
    history,
    last_of,
    load_item,
    move,
    version,
    versions,
)
from central.review.roles import REVIEW_ROLES, SUPERVISOR_ROLES, Actor, require_role
from central.review.states import CLAIMED, Action, IllegalTransition, State, transition
from central.review.tables import Claim, ReviewAction
from central.settings import CentralSettings
from central.tables import Infraction
from central.timeutil import require_aware

__all__ = [
    "REVIEW_ROLES",
    "SUPERVISOR_ROLES",
    "Claim",
    "IllegalTransition",
    "ItemChanged",
    "ReviewError",
    "claim",
    "current_claim",
    "decide",
    "first_confirmer",
    "history",
    "queue",
    "reassign",
    "release",
    "reopen",
    "second_review",
    "version",
    "versions",
]

SYSTEM_ACTOR = "system"
OPEN_STATES = (State.PENDING.value, State.AWAITING_SECOND.value)
SECOND_STATES = frozenset({State.AWAITING_SECOND, State.SECOND_REVIEW})
"""A first reviewer's confirmation waits for (or is in) its second review."""


def _until(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _require_name(value: str, what: str) -> str:
    if not value or not value.strip() or len(value) > 64:
        raise ReviewError(f"{what} must be 1 to 64 characters")
    return value


def current_claim(session: Session, event_id: str) -> Claim | None:
    """The claim row on the item, live or expired (compare `expires_at` with now)."""
    return session.scalars(
        select(Claim).where(Claim.event_id == event_id).execution_options(populate_existing=True)
    ).one_or_none()


def _drop_claim(session: Session, held: Claim) -> None:
    """Delete exactly the claim that was read; if it changed meanwhile someone else acted first."""
    result = session.execute(
        delete(Claim)
        .where(Claim.event_id == held.event_id, Claim.reviewer == held.reviewer, Claim.expires_at == held.expires_at)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        raise ReviewError(f"the claim on {held.event_id} changed meanwhile; reload the item")
    session.expunge(held)


def _expire_if_due(session: Session, item: Infraction, now: datetime) -> None:
    """An expired claim goes back to the queue before anything else happens to the item."""
    if State(item.review_state) not in CLAIMED:
        return
    held = current_claim(session, item.event_id)
    if held is not None and held.expires_at > now:
        return
    if held is not None:
        _drop_claim(session, held)
    move(session, item, Action.EXPIRE, SYSTEM_ACTOR, now, assignee=held.reviewer if held else None)


def _held_by(session: Session, item: Infraction, reviewer: str) -> Claim:
    held = current_claim(session, item.event_id)
    if held is None:
        raise ReviewError(f"item {item.event_id} is not claimed; claim it first")
    if held.reviewer != reviewer:
        raise ReviewError(f"claimed by {held.reviewer} until {_until(held.expires_at)}")
    return held


def first_confirmer(session: Session, event_id: str) -> str | None:
    """The reviewer whose confirmation awaits a second review, if any."""
    referral = last_of(current_round(session, event_id), Action.REFER)
    return referral.actor if referral else None


def _referred_by(reviewer: str) -> Select[str]:
    """Items awaiting (or in) a second review whose latest referral is `reviewer`'s."""
    latest = (
        select(func.max(ReviewAction.id))
        .where(ReviewAction.action == Action.REFER.value)
        .group_by(ReviewAction.event_id)
        .scalar_subquery()
    )
    return (
        select(ReviewAction.event_id)
        .join(Infraction, Infraction.event_id == ReviewAction.event_id)
        .where(
            ReviewAction.id.in_(latest),
            ReviewAction.actor == reviewer,
            Infraction.review_state.in_([State.AWAITING_SECOND.value, State.SECOND_REVIEW.value]),
        )
    )


def queue(
    session: Session,
    *,
    now: datetime,
    states: Iterable[str] | None = None,
    camera_id: str | None = None,
    site: str | None = None,
    type: str | None = None,
    older_than: datetime | None = None,
    newer_than: datetime | None = None,
    for_reviewer: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Infraction]:
    """Items oldest first. By default the open work: pending and awaiting a second review, including items
    whose claim has expired (they are free again even before anyone touches them). With `for_reviewer`, the
    work that reviewer can take: items they gave the first confirmation of are left out (they may not give
    the second), and items they hold a live claim on are in (others' live claims never are)."""
    stmt = queue_statement(
        now=now,
        states=states,
        camera_id=camera_id,
        site=site,
        type=type,
        older_than=older_than,
        newer_than=newer_than,
        for_reviewer=for_reviewer,
    )
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def queue_statement(
    *,
    now: datetime,
    states: Iterable[str] | None = None,
    camera_id: str | None = None,
    site: str | None = None,
    type: str | None = None,
    older_than: datetime | None = None,
    newer_than: datetime | None = None,
    for_reviewer: str | None = None,
) -> Select[Infraction]:
    """`queue()`'s query, oldest first, without its limit: a page that shows a few columns of many items selects
    only those (`with_only_columns`) instead of loading whole rows and their payloads."""
    now = require_aware(now)
    wanted = [State(s).value for s in (states or OPEN_STATES)]
    freed = []
    if State.PENDING.value in wanted:
        freed.append(State.IN_REVIEW.value)
    if State.AWAITING_SECOND.value in wanted:
        freed.append(State.SECOND_REVIEW.value)
    condition: ColumnElement[bool] = Infraction.review_state.in_(wanted)
    if freed:
        condition = or_(condition, and_(Infraction.review_state.in_(freed), Claim.expires_at <= now))
        if for_reviewer is not None:
            mine = and_(Infraction.review_state.in_(freed), Claim.reviewer == for_reviewer, Claim.expires_at > now)
            condition = or_(condition, mine)
    stmt = select(Infraction).outerjoin(Claim, Claim.event_id == Infraction.event_id).where(condition)
    if camera_id is not None:
        stmt = stmt.where(Infraction.camera_id == camera_id)
    if site is not None:
        stmt = stmt.where(Infraction.site == site)
    if type is not None:
        stmt = stmt.where(Infraction.type == type)
    if older_than is not None:
        stmt = stmt.where(Infraction.started_at < require_aware(older_than, "older_than"))
    if newer_than is not None:
        stmt = stmt.where(Infraction.started_at > require_aware(newer_than, "newer_than"))
    if for_reviewer is not None:
        stmt = stmt.where(Infraction.event_id.not_in(_referred_by(for_reviewer)))
    return stmt.order_by(Infraction.started_at, Infraction.event_id)


def claim(
    session: Session,
    event_id: str,
    actor: Actor,
    now: datetime,
    settings: CentralSettings,
    *,
    version: int | None = None,
) -> Claim:
    """Claim an item for `settings.claim_ttl_s`; claiming again one's own live claim renews it (a renewal
    is no move: the version stays)."""
    require_role(actor, REVIEW_ROLES, "claiming an item")
    reviewer = _require_name(actor.name, "reviewer")
    now = require_aware(now)
    item = load_item(session, event_id)
    check_version(session, item, version)
    _expire_if_due(session, item, now)
    state = State(item.review_state)
    expires = now + timedelta(seconds=settings.claim_ttl_s)
    if state in CLAIMED:
        held = _held_by(session, item, reviewer)
        session.execute(
            update(Claim)
            .where(Claim.event_id == event_id, Claim.reviewer == reviewer, Claim.expires_at == held.expires_at)
            .values(expires_at=expires)
            .execution_options(synchronize_session=False)
        )
        return current_claim(session, event_id)  # type: ignore[return-value]
    if state == State.AWAITING_SECOND and first_confirmer(session, event_id) == reviewer:
        raise ReviewError("you gave the first confirmation of this item; a different reviewer must give the second")
    move(session, item, Action.CLAIM, reviewer, now)
    held = Claim(event_id=event_id, reviewer=reviewer, claimed_at=now, expires_at=expires)
    session.add(held)
    session.flush()
    return held


def release(session: Session, event_id: str, reviewer: str, now: datetime) -> None:
    """Give a claimed item back to the queue undecided."""
    now = require_aware(now)
    item = load_item(session, event_id)
    _expire_if_due(session, item, now)
    transition(item.review_state, Action.RELEASE)
    _drop_claim(session, _held_by(session, item, reviewer))
    move(session, item, Action.RELEASE, reviewer, now)


def _checked_reason(reason: str, note: str, allowed: list[str], settings: CentralSettings, what: str) -> str | None:
    if reason not in allowed:
        raise ReviewError(f"{reason!r} is not a reason to {what}; choose one of: {'; '.join(allowed)}")
    note = (note or "").strip()
    if len(note) > settings.note_max_chars:
        raise ReviewError(f"the note has {len(note)} characters; at most {settings.note_max_chars} are kept")
    if reason == "other" and not note:
        raise ReviewError("reason 'other' needs a note saying why")
    return note or None


Decision = Literal["confirm", "reject"]


def decide(
    session: Session,
    event_id: str,
    actor: Actor,
    decision: Decision,
    reason: str,
    note: str,
    subject_ref: str | None,
    now: datetime,
    settings: CentralSettings,
    *,
    version: int | None = None,
) -> str:
    """The first review: confirm or reject a claimed item; returns its new review state.

    A confirmation that names a subject reference and is worth more than `settings.second_review_points`
    goes to `awaiting_second` and waits for `second_review()`. A confirmation without a subject reference
    records the finding and deducts nothing. A rejection takes no subject reference. An item whose first
    confirmation awaits (or is in) its second review is refused: that decision is a second review."""
    return _decide(session, event_id, actor, decision, reason, note, subject_ref, now, settings, version, second=False)


def second_review(
    session: Session,
    event_id: str,
    actor: Actor,
    decision: Decision,
    reason: str,
    note: str,
    subject_ref: str | None,
    now: datetime,
    settings: CentralSettings,
    *,
    version: int | None = None,
) -> str:
    """The second review of a first reviewer's confirmation, by a different reviewer holding the claim:
    confirming it (with the same subject reference, or none, meaning the first reviewer's) writes the
    deduction; rejecting it deducts nothing. Refused on an item in its first review."""
    return _decide(session, event_id, actor, decision, reason, note, subject_ref, now, settings, version, second=True)


def _decide(
    session: Session,
    event_id: str,
    actor: Actor,
    decision: Decision,
    reason: str,
    note: str,
    subject_ref: str | None,
    now: datetime,
    settings: CentralSettings,
    expected: int | None,
    *,
    second: bool,
) -> str:
    require_role(actor, REVIEW_ROLES, "deciding an item")
    reviewer = actor.name
    now = require_aware(now)
    if decision not in ("confirm", "reject"):
        raise ReviewError(f"decision must be confirm or reject, not {decision!r}")
    action = Action.CONFIRM if decision == "confirm" else Action.REJECT
    item = load_item(session, event_id)
    check_version(session, item, expected)
    _require_stage(item, second)
    held = current_claim(session, event_id)
    if held is not None and held.reviewer == reviewer and held.expires_at <= now:
        raise ReviewError(f"your claim expired at {_until(held.expires_at)}; claim the item again to decide it")
    _expire_if_due(session, item, now)
    state = State(item.review_state)
    transition(state, action)
    held = _held_by(session, item, reviewer)
    subject_ref = subject_ref or None
    details: dict[str, object] = {}
    if action == Action.REJECT:
        details["note"] = _checked_reason(reason, note, settings.reject_reasons, settings, "reject")
        if subject_ref is not None:
            raise ReviewError("a rejection takes no subject reference")
    else:
        details["note"] = _checked_reason(reason, note, settings.confirm_reasons, settings, "confirm")
        if subject_ref is not None:
            validate_subject_ref(subject_ref, settings.subject_ref_pattern)
        version, points = catalogue.points_for(session, item.type)
        if state == State.SECOND_REVIEW:
            referral = last_of(current_round(session, event_id), Action.REFER)
            if referral is None or referral.actor == reviewer:
                raise ReviewError("a second review must come from a different reviewer than the first")
            separation.require_separate(session, referral.actor, reviewer)
            if subject_ref is not None and subject_ref != referral.subject_ref:
                raise ReviewError(
                    "this subject reference differs from the first reviewer's; reject the item or ask a supervisor "
                    "to reopen it"
                )
            subject_ref = referral.subject_ref
        elif subject_ref is not None and points > settings.second_review_points:
            action = Action.REFER
        details.update(subject_ref=subject_ref, points=points, catalogue_version=version)
    _drop_claim(session, held)
    done = move(session, item, action, reviewer, now, reason=reason, **details)
    if done.to_state == State.CONFIRMED and subject_ref is not None:
        ledger.record_deduction(session, event_id, now, settings)
    return item.review_state


def _require_stage(item: Infraction, second: bool) -> None:
    """A first-review decision only on an item in its first review, a second review only in its second."""
    in_second = State(item.review_state) in SECOND_STATES
    if in_second and not second:
        raise ReviewError(
            f"item {item.event_id} is {item.review_state.replace('_', ' ')}: a first reviewer's confirmation waits "
            "for its second review, so a decision on it is a second review; read the first review, then send "
            "yours as a second review"
        )
    if second and not in_second:
        raise ReviewError(
            f"item {item.event_id} is {item.review_state.replace('_', ' ')}: no first confirmation waits for a "
            "second review, so this decision would be its first review; read it again and decide it as one"
        )


def reassign(
    session: Session,
    event_id: str,
    supervisor: Actor,
    to_reviewer: str,
    now: datetime,
    settings: CentralSettings,
    *,
    version: int | None = None,
) -> Claim:
    """A supervisor hands an open or claimed item to `to_reviewer`, who then holds a fresh claim on it."""
    require_role(supervisor, SUPERVISOR_ROLES, "reassigning an item")
    _require_name(to_reviewer, "the reviewer to reassign to")
    now = require_aware(now)
    item = load_item(session, event_id)
    check_version(session, item, version)
    _expire_if_due(session, item, now)
    state = State(item.review_state)
    transition(state, Action.REASSIGN)
    if state in (State.AWAITING_SECOND, State.SECOND_REVIEW) and first_confirmer(session, event_id) == to_reviewer:
        raise ReviewError(f"{to_reviewer} gave the first confirmation; the second review needs someone else")
    held = current_claim(session, event_id)
    if held is not None:
        _drop_claim(session, held)
    move(session, item, Action.REASSIGN, supervisor.name, now, assignee=to_reviewer)
    fresh = Claim(
        event_id=event_id,
        reviewer=to_reviewer,
        claimed_at=now,
        expires_at=now + timedelta(seconds=settings.claim_ttl_s),
    )
    session.add(fresh)
    session.flush()
    return fresh


def reopen(
    session: Session, event_id: str, supervisor: Actor, reason: str, now: datetime, *, version: int | None = None
) -> None:
    """A supervisor sends a decided item (or one awaiting its second review) back to `pending`. Reopening a
    confirmed item reverses its deduction with a new ledger entry."""
    require_role(supervisor, SUPERVISOR_ROLES, "reopening an item")
    now = require_aware(now)
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("reopening needs a reason")
    item = load_item(session, event_id)
    check_version(session, item, version)
    state = State(item.review_state)
    transition(state, Action.REOPEN)
    if state == State.CONFIRMED:
        ledger.reverse_event(session, event_id, supervisor.name, f"reopened: {reason}", now)
    note = reason if len(reason) > 120 else None
    move(session, item, Action.REOPEN, supervisor.name, now, reason=reason[:120], note=note)
