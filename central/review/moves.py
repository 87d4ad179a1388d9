"""Making one move of the state machine on a stored item: compare-and-set on its state, a history row and
an audit entry, all in the caller's transaction. Shared by the review and ledger services.

An item's **version** is the number of moves made on it (its history's length): 0 when it arrives, one more
with every move. A client that read the item sends the version it read with its move (`expected`), and the
move is refused with `ItemChanged` (409) when the item has moved on since, naming what changed, when and who
(name and part in the review, never a subject reference)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from central import audit
from central.db import rows_changed
from central.review.errors import ReviewError
from central.review.states import Action, State, transition
from central.review.tables import ReviewAction
from central.tables import Infraction
from central.timeutil import as_utc

AUDITED_DETAILS = ("reason", "note", "assignee", "points", "catalogue_version")
"""The subject reference stays out of the audit log: the ledger holds it, the log says a decision was made."""


class ItemChanged(ReviewError):
    """A move made on an older version of the item than the stored one."""


def load_item(session: Session, event_id: str) -> Infraction:
    """The item, locked for this transaction: its row on PostgreSQL; on SQLite, which has one writer at a time,
    the write lock is taken first (a write that changes nothing), so the version and state read next stay
    current until the transaction ends."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE infractions SET review_state = review_state WHERE 0 = 1"))
    item = session.scalars(
        select(Infraction)
        .where(Infraction.event_id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if item is None:
        raise ReviewError(f"no infraction with event id {event_id}")
    return item


def move(session: Session, item: Infraction, action: Action, actor: str, now: datetime, **details: Any) -> ReviewAction:
    """Apply `action` to `item`. The state is changed only if nobody changed it since it was read, so two
    workers can never both make a move from the same state."""
    old = State(item.review_state)
    new = transition(old, action)
    result = session.execute(
        update(Infraction)
        .where(Infraction.event_id == item.event_id, Infraction.review_state == old.value)
        .values(review_state=new.value)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        raise ReviewError(f"item {item.event_id} was changed by someone else meanwhile (no longer {old}); reload it")
    set_committed_value(item, "review_state", new.value)
    row = ReviewAction(
        event_id=item.event_id,
        at=now,
        actor=actor,
        action=action.value,
        from_state=old.value,
        to_state=new.value,
        **details,
    )
    session.add(row)
    session.flush()
    audited = {key: details[key] for key in AUDITED_DETAILS if details.get(key) is not None}
    if details.get("subject_ref"):
        audited["subject_ref_given"] = True
    audit.record(
        session, actor, f"review.{action}", f"infraction:{item.event_id}", {"from": old, "to": new, **audited}, now=now
    )
    return row


def version(session: Session, event_id: str) -> int:
    """The item's version: the number of moves made on it."""
    return session.scalar(select(func.count()).select_from(ReviewAction).where(ReviewAction.event_id == event_id)) or 0


def versions(session: Session, event_ids: list[str]) -> dict[str, int]:
    """The version of each of `event_ids` (0 for an item no one has touched)."""
    if not event_ids:
        return {}
    rows = session.execute(
        select(ReviewAction.event_id, func.count())
        .where(ReviewAction.event_id.in_(event_ids))
        .group_by(ReviewAction.event_id)
    )
    counted = {event_id: count for event_id, count in rows}
    return {event_id: counted.get(event_id, 0) for event_id in event_ids}


PART = {
    Action.CLAIM: "reviewer",
    Action.RELEASE: "reviewer",
    Action.CONFIRM: "reviewer",
    Action.REJECT: "reviewer",
    Action.REFER: "first reviewer",
    Action.REASSIGN: "supervisor",
    Action.REOPEN: "supervisor",
    Action.APPEAL: "appellant",
    Action.UPHOLD: "appeal reviewer",
    Action.REVERSE: "appeal reviewer",
}
"""Each move's actor by their part in the review (a move out of a second review is the second reviewer's)."""
DONE = {
    Action.CLAIM: "claimed",
    Action.RELEASE: "released",
    Action.CONFIRM: "confirmed",
    Action.REJECT: "rejected",
    Action.REFER: "confirmed with a subject reference (awaiting a second review)",
    Action.REASSIGN: "reassigned",
    Action.REOPEN: "reopened",
    Action.APPEAL: "appealed",
    Action.UPHOLD: "appeal refused (the deduction stands)",
    Action.REVERSE: "appeal granted (the deduction is reversed)",
}


def describe(step: ReviewAction) -> str:
    """One move in words: what, by whom (name and part), when. Never the subject reference."""
    at = f"{as_utc(step.at):%Y-%m-%d %H:%M:%S} UTC"
    action = Action(step.action)
    if action == Action.EXPIRE:
        return f"the claim of {step.assignee or 'its reviewer'} expired (noted at {at})"
    part = PART[action]
    if part == "reviewer" and State.SECOND_REVIEW in (step.from_state, step.to_state):
        part = "second reviewer"
    to = f" to {step.assignee}" if action == Action.REASSIGN and step.assignee else ""
    return f"{DONE[action]}{to} by {step.actor} ({part}) at {at}"


SHOWN_CHANGES = 5


def check_version(session: Session, item: Infraction, expected: int | None) -> None:
    """Refuse with ItemChanged unless the item (loaded with `load_item`) is still at version `expected`;
    None checks nothing (a caller that read the item in this same transaction)."""
    if expected is None:
        return
    moves = history(session, item.event_id)
    if expected == len(moves):
        return
    now_at = f"it is now at version {len(moves)}, {State(item.review_state).value.replace('_', ' ')}"
    if not 0 <= expected < len(moves):
        raise ItemChanged(f"item {item.event_id} has no version {expected} ({now_at}); reload it")
    since = moves[expected:]
    shown = "; ".join(describe(step) for step in since[-SHOWN_CHANGES:])
    earlier = len(since) - SHOWN_CHANGES
    more = f" ({earlier} earlier change{'s' if earlier > 1 else ''} not shown)" if earlier > 0 else ""
    raise ItemChanged(
        f"item {item.event_id} changed after you read it at version {expected}: {shown}{more}. {now_at[0].upper()}"
        f"{now_at[1:]}: reload it and decide on what it shows now"
    )


def history(session: Session, event_id: str) -> list[ReviewAction]:
    """Every move made on the item, oldest first."""
    return list(
        session.scalars(select(ReviewAction).where(ReviewAction.event_id == event_id).order_by(ReviewAction.id))
    )


def current_round(session: Session, event_id: str) -> list[ReviewAction]:
    """The moves since the item was last reopened (a reopen starts its review afresh)."""
    actions = history(session, event_id)
    start = max((i + 1 for i, a in enumerate(actions) if a.action == Action.REOPEN), default=0)
    return actions[start:]


def last_of(actions: list[ReviewAction], action: Action) -> ReviewAction | None:
    return next((a for a in reversed(actions) if a.action == action), None)
