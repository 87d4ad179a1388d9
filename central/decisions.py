"""Decisions that reach the ledger: an item's first review, its second review and a supervisor reopening it.
A confirmation is priced by the points catalogue and, once confirmed with a subject reference, writes its
deduction; reopening a confirmed item reverses it. This module sits above central.review (the workflow: queue,
claims, moves) and central.ledger (which reads the review's moves), so that neither imports the other back.
Every function works in the caller's transaction and takes `now` (aware UTC) and the item's `version` as the
client read it (central.review.moves). Deciding needs reviewer, supervisor or admin (central.review.roles),
reopening supervisor or admin; the who-rules (claim holder, a second reviewer other than the first, separation of
duties) are checked here, so no client can skip them.

A second review is its own step, `second_review()`: `decide()` is the first review only, so a confirmation
meant for a pending item never becomes the second confirmation of another reviewer's referral."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

from central.ledger import catalogue
from central.ledger import service as ledger
from central.ledger.subject import validate_subject_ref
from central.review import separation
from central.review.claims import current_claim, drop_claim, expire_if_due, held_by, until
from central.review.errors import ReviewError
from central.review.moves import check_version, current_round, last_of, load_item, move
from central.review.roles import REVIEW_ROLES, SUPERVISOR_ROLES, Actor, require_role
from central.review.states import Action, State, transition
from central.settings import CentralSettings
from central.tables import Infraction
from central.timeutil import require_aware

SECOND_STATES = frozenset({State.AWAITING_SECOND, State.SECOND_REVIEW})
"""A first reviewer's confirmation waits for (or is in) its second review."""


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
        raise ReviewError(f"your claim expired at {until(held.expires_at)}; claim the item again to decide it")
    expire_if_due(session, item, now)
    state = State(item.review_state)
    transition(state, action)
    held = held_by(session, item, reviewer)
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
    drop_claim(session, held)
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
