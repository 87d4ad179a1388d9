"""Making one move of the state machine on a stored item: compare-and-set on its state, a history row and
an audit entry, all in the caller's transaction. Shared by the review and ledger services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from central import audit
from central.db import rows_changed
from central.review.errors import ReviewError
from central.review.states import Action, State, transition
from central.review.tables import ReviewAction
from central.tables import Infraction

AUDITED_DETAILS = ("reason", "note", "assignee", "points", "catalogue_version")
"""The subject reference stays out of the audit log: the ledger holds it, the log says a decision was made."""


def load_item(session: Session, event_id: str) -> Infraction:
    """The item, locked for this transaction on PostgreSQL (SQLite has one writer at a time anyway)."""
    item = session.scalars(select(Infraction).where(Infraction.event_id == event_id).with_for_update()).one_or_none()
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
