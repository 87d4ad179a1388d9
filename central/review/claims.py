"""Claims on items: who holds one, until when, and what an expired one does. Shared by the review workflow
(central.review.service) and the decisions that reach the ledger (central.decisions), which both check the claim
before they move an item."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from central.db import rows_changed
from central.review.errors import ReviewError
from central.review.moves import move
from central.review.states import CLAIMED, Action, State
from central.review.tables import Claim
from central.tables import Infraction

SYSTEM_ACTOR = "system"


def until(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def current_claim(session: Session, event_id: str) -> Claim | None:
    """The claim row on the item, live or expired (compare `expires_at` with now)."""
    return session.scalars(
        select(Claim).where(Claim.event_id == event_id).execution_options(populate_existing=True)
    ).one_or_none()


def drop_claim(session: Session, held: Claim) -> None:
    """Delete exactly the claim that was read; if it changed meanwhile someone else acted first."""
    result = session.execute(
        delete(Claim)
        .where(Claim.event_id == held.event_id, Claim.reviewer == held.reviewer, Claim.expires_at == held.expires_at)
        .execution_options(synchronize_session=False)
    )
    if rows_changed(result) != 1:
        raise ReviewError(f"the claim on {held.event_id} changed meanwhile; reload the item")
    session.expunge(held)


def expire_if_due(session: Session, item: Infraction, now: datetime) -> None:
    """An expired claim goes back to the queue before anything else happens to the item."""
    if State(item.review_state) not in CLAIMED:
        return
    held = current_claim(session, item.event_id)
    if held is not None and held.expires_at > now:
        return
    if held is not None:
        drop_claim(session, held)
    move(session, item, Action.EXPIRE, SYSTEM_ACTOR, now, assignee=held.reviewer if held else None)


def held_by(session: Session, item: Infraction, reviewer: str) -> Claim:
    held = current_claim(session, item.event_id)
    if held is None:
        raise ReviewError(f"item {item.event_id} is not claimed; claim it first")
    if held.reviewer != reviewer:
        raise ReviewError(f"claimed by {held.reviewer} until {until(held.expires_at)}")
    return held
