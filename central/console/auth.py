"""Users and passwords: argon2 hashes, role checks and a login lockout per username and address."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from central.console.tables import ROLES, ConsoleUser, LoginAttempt

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
# Verifying against a throwaway hash for unknown usernames keeps the timing of "no such user" and
# "wrong password" alike, so the login form does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("curbwatch-no-such-user")


class AuthError(ValueError):
    """A user or password that cannot be accepted, with a message fit to show."""


@dataclass(frozen=True)
class Principal:
    """Who is acting: enough to check roles and to name them in the audit log."""

    id: int
    username: str
    role: str
    must_change_password: bool = False


@dataclass(frozen=True)
class LoginOutcome:
    user: Principal | None
    locked_out: bool = False


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")


def add_user(
    session: Session, username: str, password: str, role: str, *, must_change_password: bool = False
) -> ConsoleUser:
    if not re.match(USERNAME_PATTERN, username):
        raise AuthError("username must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    check_password_rules(password)
    if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == username)) is not None:
        raise AuthError(f"user {username!r} already exists")
    user = ConsoleUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        active=True,
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    return user


def recent_failures(session: Session, username: str, address: str, since: datetime) -> int:
    return session.scalar(
        select(func.count(LoginAttempt.id)).where(
            LoginAttempt.username == username,
            LoginAttempt.address == address,
            LoginAttempt.success.is_(False),
            LoginAttempt.at >= since,
        )
    )


def authenticate(
    session: Session,
    username: str,
    password: str,
    address: str,
    now: datetime,
    *,
    max_failures: int,
    window_s: int,
) -> LoginOutcome:
    """Check a password; after `max_failures` failures in `window_s` the pair (username, address) is locked
    out until the window slides past them, and the password is not even checked."""
    username = username[:64]
    address = address[:64]
    # Attempts only matter inside the window (the audit log keeps every login for good).
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(seconds=window_s)))
    if recent_failures(session, username, address, now - timedelta(seconds=window_s)) >= max_failures:
        return LoginOutcome(None, locked_out=True)
    user = session.scalar(select(ConsoleUser).where(ConsoleUser.username == username))
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(username=username, address=address, at=now, success=ok))
    if not ok:
        return LoginOutcome(None)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginOutcome(principal_of(user))


def password_matches(user: ConsoleUser, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def principal_of(user: ConsoleUser) -> Principal:
    return Principal(user.id, user.username, user.role, user.must_change_password)
