"""Accounts an admin (or the demo) creates, and passwords an operator resets: a one-time password the holder must
replace at the next sign-in, so nobody else knows the password they then work under, and an audit entry naming who
created the account or reset its password. Whoever does either is recorded on the account as its credential issuer:
they knew a password of it, and may have chosen the next one themselves, so the two reviews of a deduction may not
both trace to them (central.review.separation)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from central import audit
from central.console.auth import AuthError, add_user_with_one_time_password, find_user, hash_password, one_time_password
from central.console.tables import ConsoleSession
from central.user_accounts import ConsoleUser


def create_account(
    session: Session, actor: str, username: str, role: str, *, issued_by: str | None = None
) -> tuple[ConsoleUser, str]:
    """Add `username` with `role`, audited as `user.add` by `actor`; returns the user and the one-time password.
    `issued_by` is the credential issuer when it is not the console user `actor` (HOST_OPERATOR for the shell)."""
    issuer = issued_by or actor
    user, password = add_user_with_one_time_password(session, username, role, issuer)
    audit.record(
        session,
        actor,
        "user.add",
        target=user.username,
        details={"role": role, "one_time": True, "credential_issuer": issuer},
    )
    return user, password


def reset_password(
    session: Session, actor: str, username: str, *, issued_by: str | None = None
) -> tuple[ConsoleUser, str]:
    """Give `username` a new one-time password, as a new account has, audited as `user.password_reset` by `actor`,
    who becomes its credential issuer (`issued_by` when given); returns the user and the password. The account's
    sessions end: whoever held the lost password is signed out."""
    user = find_user(session, username)
    if user is None:
        raise AuthError(f"no user {username!r}")
    issuer = issued_by or actor
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.credential_issuer = issuer
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    audit.record(
        session,
        actor,
        "user.password_reset",
        target=user.username,
        details={"one_time": True, "credential_issuer": issuer},
    )
    return user, password
