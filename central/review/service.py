"""The review workflow on stored infractions: the queue, expiring claims and the supervisor's reassignment. The
decisions that reach the ledger (first and second review, reopening) are central.decisions, above both this
package and the ledger. Every function works in the caller's transaction and takes `now` (aware UTC).

Every move takes the item's `version` as the client read it (central.review.moves): a move made on an item
that has moved on since is refused with ItemChanged, saying what changed. None checks nothing, for callers
that act on what they read in the same transaction.

Roles (central.review.roles): claiming needs reviewer, supervisor or admin; reassigning needs supervisor or
admin. Who-rules (claim holder, the second reviewer differs from the first) are checked here too, so no client
can skip them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, func, or_, select, update
from sqlalchemy.orm import Session

from central.review.claims import current_claim, drop_claim, expire_if_due, held_by
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
    "first_confirmer",
    "history",
    "queue",
    "reassign",
    "release",
    "version",
    "versions",
]

OPEN_STATES = (State.PENDING.value, State.AWAITING_SECOND.value)


def _require_name(value: str, what: str) -> str:
    if not value or not value.strip() or len(value) > 64:
        raise ReviewError(f"{what} must be 1 to 64 characters")
    return value


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
    expire_if_due(session, item, now)
    state = State(item.review_state)
    expires = now + timedelta(seconds=settings.claim_ttl_s)
    if state in CLAIMED:
        held = held_by(session, item, reviewer)
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
    expire_if_due(session, item, now)
    transition(item.review_state, Action.RELEASE)
    drop_claim(session, held_by(session, item, reviewer))
    move(session, item, Action.RELEASE, reviewer, now)


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
    expire_if_due(session, item, now)
    state = State(item.review_state)
    transition(state, Action.REASSIGN)
    if state in (State.AWAITING_SECOND, State.SECOND_REVIEW) and first_confirmer(session, event_id) == to_reviewer:
        raise ReviewError(f"{to_reviewer} gave the first confirmation; the second review needs someone else")
    held = current_claim(session, event_id)
    if held is not None:
        drop_claim(session, held)
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
