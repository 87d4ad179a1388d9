"""Accounts an admin (or the demo) creates: a one-time password the holder must replace at the first sign-in,
so nobody else knows the password they then work under, and an audit entry naming who created the account."""

from __future__ import annotations

from sqlalchemy.orm import Session

from central import audit
from central.console.auth import add_user_with_one_time_password
from central.console.tables import ConsoleUser


def create_account(session: Session, actor: str, username: str, role: str) -> tuple[ConsoleUser, str]:
    """Add `username` with `role`, audited as `user.add` by `actor`; returns the user and the one-time password."""
    user, password = add_user_with_one_time_password(session, username, role)
    audit.record(session, actor, "user.add", target=user.username, details={"role": role, "one_time": True})
    return user, password
