"""A warning on a two-reviewer confirmation that one admin may have given alone: both confirmers' accounts got
their password from the same person, who created the account or last reset its password, and neither holder had
replaced that password by the second confirmation (accounts made before one-time passwords). Who created an
account, every reset and every password change are read from the audit log, which holds them for good."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.audit import AuditEntry
from central.review.states import Action
from central.timeutil import as_utc

SETS_PASSWORD = ("user.add", "user.password_reset")
"""Actions whose actor knows the password the account then has: DESIGN.md section 5 counts both alike."""


def _setter(session: Session, username: str, at: datetime) -> tuple[str, str, int] | None:
    """(actor, action, seq) of the last creation or reset of `username` up to `at`."""
    entries = session.execute(
        select(AuditEntry.actor, AuditEntry.action, AuditEntry.seq, AuditEntry.at)
        .where(AuditEntry.action.in_(SETS_PASSWORD), AuditEntry.target == username)
        .order_by(AuditEntry.seq.desc())
    )
    return next(((actor, action, seq) for actor, action, seq, when in entries if as_utc(when) <= as_utc(at)), None)


def _changed_password_by(session: Session, username: str, after_seq: int, at: datetime) -> bool:
    changes = session.scalars(
        select(AuditEntry.at).where(
            AuditEntry.action == "user.password_change", AuditEntry.target == username, AuditEntry.seq > after_seq
        )
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
    first_set, second_set = _setter(session, first.actor, second.at), _setter(session, second.actor, second.at)
    if first.actor == second.actor or first_set is None or second_set is None or first_set[0] != second_set[0]:
        return None
    if _changed_password_by(session, first.actor, first_set[2], second.at) or _changed_password_by(
        session, second.actor, second_set[2], second.at
    ):
        return None
    admin = first_set[0]
    how = "created" if first_set[1] == second_set[1] == "user.add" else "created or reset"
    return (
        f"Both reviews came from accounts {how} by {admin} ({first.actor} and {second.actor}), and neither had "
        f"replaced the password {admin} set: {admin} could have given both."
    )
