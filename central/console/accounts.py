"""Accounts an admin (or the demo) creates, and passwords an operator resets: a one-time password the holder must
replace at the next sign-in, so nobody else knows the password they then work under, and an audit entry naming who
created the account or reset its password (second_review_check reads both)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from central import audit
from central.console.auth import AuthError, add_user_with_one_time_password, find_user, hash_password, one_time_password
from central.console.tables import ConsoleSession, ConsoleUser


def create_account(session: Session, actor: str, username: str, role: str) -> tuple[ConsoleUser, str]:
    """Add `username` with `role`, audited as `user.add` by `actor`; returns the user and the one-time password."""
    user, password = add_user_with_one_time_password(session, username, role)
    audit.record(session, actor, "user.add", target=user.username, details={"role": role, "one_time": True})
    return user, password


def reset_password(session: Session, actor: str, username: str) -> tuple[ConsoleUser, str]:
    """Give `username` a new one-time password, as a new account has, audited as `user.password_reset` by `actor`;
    returns the user and the password. The account's sessions end: whoever held the lost password is signed out."""
    user = find_user(session, username)
    if user is None:
        raise AuthError(f"no user {username!r}")
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    audit.record(session, actor, "user.password_reset", target=user.username, details={"one_time": True})
    return user, password
