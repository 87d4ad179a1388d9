"""No person may give both reviews of a deduction, not even through accounts whose passwords they issued.

Whoever creates an account or resets its password knows a password of it and may sign in first and choose the
next one themselves, so a later password change by "the holder" proves nothing. Each account therefore records its
credential issuer (the admin who last created or reset it, or the host operator for the shell), and a second
confirmation is refused when both reviewers' credentials come from one person, or when one reviewer issued the
other's. Reviewer names without a console account (the services used directly, from the host) are not checked:
whoever runs them owns the database anyway."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.review.errors import ReviewError
from central.review.moves import current_round, last_of
from central.review.roles import REVIEW_ROLES, Actor
from central.review.states import Action, State
from central.tables import Infraction
from central.user_accounts import ConsoleUser, fold_username

SECOND_REVIEW_STATES = (State.AWAITING_SECOND.value, State.SECOND_REVIEW.value)


def _issuer(session: Session, username: str) -> str | None:
    return session.scalar(
        select(ConsoleUser.credential_issuer).where(ConsoleUser.username_key == fold_username(username))
    )


def shared_issuer(session: Session, first: str, second: str) -> str | None:
    """Why `first` and `second` may be one person's doing, or None. Names accounts and the issuer, never the item."""
    first_issuer, second_issuer = _issuer(session, first), _issuer(session, second)
    if first_issuer is None or second_issuer is None:
        return None
    if fold_username(first_issuer) == fold_username(second_issuer):
        return (
            f"the credentials of both reviewers ({first} and {second}) were issued by {first_issuer}, who created "
            f"or last reset both accounts and so could have given both confirmations alone"
        )
    for issuer, holder in ((first, second_issuer), (second, first_issuer)):
        if fold_username(holder) == fold_username(issuer):
            other = second if issuer == first else first
            return (
                f"{issuer} issued the credential of {other} (created the account or last reset its password) and so "
                f"could have given both confirmations alone"
            )
    return None


def require_separate(session: Session, first: str, second: str) -> None:
    """Refuse a second confirmation by `second` of a deduction `first` confirmed first."""
    reason = shared_issuer(session, first, second)
    if reason is not None:
        raise ReviewError(
            f"the second confirmation is refused: {reason}; it must come from a reviewer whose password "
            f"someone else issued"
        )


def second_review_barrier(session: Session, item: Infraction, viewer: Actor) -> str | None:
    """The item page's warning for a reviewer who would be refused the second confirmation, before they act."""
    if item.review_state not in SECOND_REVIEW_STATES or viewer.role not in REVIEW_ROLES:
        return None
    referral = last_of(current_round(session, item.event_id), Action.REFER)
    if referral is None or referral.actor == viewer.name:
        return None
    reason = shared_issuer(session, referral.actor, viewer.name)
    return None if reason is None else f"You cannot give the second confirmation of this item: {reason}."
