"""A warning on a two-reviewer confirmation that one admin may have given alone: both confirmers' accounts were
created by the same admin, and neither holder had replaced the password that admin set (accounts made before
one-time passwords) by the second confirmation. Who created an
account and every password change are read from the audit log, which holds both for good."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit import AuditEntry
from central.review.states import Action
from central.timeutil import as_utc


def _creator(session: Session, username: str) -> str | None:
    return session.scalar(
        select(AuditEntry.actor)
        .where(AuditEntry.action == "user.add", AuditEntry.target == username)
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    )


def _changed_password_by(session: Session, username: str, at: datetime) -> bool:
    changes = session.scalars(
        select(AuditEntry.at).where(AuditEntry.action == "user.password_change", AuditEntry.target == username)
    )
    return any(as_utc(changed) <= as_utc(at) for changed in changes)


def shared_creator_warning(session: Session, history: Sequence[Any]) -> str | None:
    """The warning for an item's review history, or None. The two reviews are the last confirmation and the
    referral (the first reviewer's confirmation) before it."""
    confirms = [i for i, step in enumerate(history) if step.action == Action.CONFIRM]
    referrals = [i for i, step in enumerate(history) if step.action == Action.REFER and confirms and i < confirms[-1]]
    if not referrals:
        return None
    first, second = history[referrals[-1]], history[confirms[-1]]
    creators = {_creator(session, first.actor), _creator(session, second.actor)}
    if first.actor == second.actor or len(creators) != 1 or None in creators:
        return None
    if any(_changed_password_by(session, step.actor, second.at) for step in (first, second)):
        return None
    admin = creators.pop()
    return (
        f"Both reviews came from accounts created by {admin} ({first.actor} and {second.actor}), and neither had "
        f"replaced the password {admin} set: {admin} could have given both."
    )
