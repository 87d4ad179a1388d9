"""Users and passwords: argon2 hashes, usernames unique however they are cased, password rules, and the login
limits: a lockout per username and address, one per address across usernames, and a per-username backoff."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from central.console.tables import ROLES, LoginAttempt
from central.review.roles import Actor
from central.timeutil import as_utc
from central.user_accounts import ConsoleUser, fold_username
from models.errors import InputError

# Checked with re.fullmatch, as every pattern that validates input here: under re.match, `$` also matches before a
# final newline, so "rev1\n" would pass and be a second account that shows as rev1.
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
MIN_PASSWORD_LENGTH = 10
# zxcvbn scores 0 and 1 mean fewer than about a million guesses: the commonest leaked passwords, words, names,
# dates, keyboard walks and repeats, however padded. It works offline from its own dictionaries.
MIN_PASSWORD_SCORE = 2
# zxcvbn refuses longer input (its time grows with the length); the start of a long password says enough.
SCORED_PREFIX = 72
_hasher = PasswordHasher()
# Verifying against a throwaway hash for unknown usernames keeps the timing of "no such user" and
# "wrong password" alike, so the login form does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("curbwatch-no-such-user")


class AuthError(InputError, ValueError):
    """A user or password that cannot be accepted, with a message fit to show."""


@dataclass(frozen=True)
class Principal:
    """Who is acting: enough to check roles and to name them in the audit log."""

    id: int
    username: str
    role: str
    must_change_password: bool = False

    @property
    def actor(self) -> Actor:
        """The user as the review and ledger services take them: name and role from this one account."""
        return Actor(self.username, self.role)


@dataclass(frozen=True)
class LoginOutcome:
    user: Principal | None
    locked_out: bool = False


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def visible_characters(text: str) -> str:
    """`text` without whitespace, control (Cc) and format (Cf) characters: zero-width spaces and joiners, the
    soft hyphen, direction marks. They show as nothing, so a password of them alone is as short as an empty one,
    however long it counts."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf"))


def check_password_rules(password: str, username: str = "") -> None:
    if not password.strip():
        raise AuthError("password must not be blank")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(visible_characters(password)) < MIN_PASSWORD_LENGTH:
        raise AuthError(
            f"password must have at least {MIN_PASSWORD_LENGTH} visible characters "
            "(spaces and invisible or control characters such as zero-width ones do not count)"
        )
    # Imported here: its dictionaries take about 13 MB, needed only when a password is set.
    from zxcvbn import zxcvbn

    inputs = [username, "curbwatch", "console"] if username else ["curbwatch", "console"]
    if zxcvbn(password[:SCORED_PREFIX], user_inputs=inputs)["score"] < MIN_PASSWORD_SCORE:
        raise AuthError("password is too easy to guess (a common password, word or pattern); choose another")


def find_user(session: Session, username: str) -> ConsoleUser | None:
    return session.scalar(select(ConsoleUser).where(ConsoleUser.username_key == fold_username(username)))


def add_user(
    session: Session, username: str, password: str, role: str, *, issued_by: str, must_change_password: bool = False
) -> ConsoleUser:
    """`issued_by` is who chose or was shown the password: the creating admin's username, or HOST_OPERATOR."""
    if not re.fullmatch(USERNAME_PATTERN, username):
        raise AuthError("username must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")
    check_password_rules(password, username)
    existing = find_user(session, username)
    if existing is not None:
        raise AuthError(f"user {existing.username!r} already exists")
    user = ConsoleUser(
        username=username,
        username_key=fold_username(username),
        password_hash=hash_password(password),
        role=role,
        active=True,
        must_change_password=must_change_password,
        credential_issuer=issued_by,
    )
    session.add(user)
    session.flush()
    return user


def one_time_password() -> str:
    """A random password for someone else to replace at their next sign-in: shown once, stored only as its hash."""
    return secrets.token_urlsafe(12)


def add_user_with_one_time_password(
    session: Session, username: str, role: str, issued_by: str
) -> tuple[ConsoleUser, str]:
    """A new account whose random password its holder must replace at the first sign-in; returns it and the
    password, which is shown once and stored only as its hash."""
    password = one_time_password()
    return add_user(session, username, password, role, issued_by=issued_by, must_change_password=True), password


def _failures(session: Session, since: datetime, *conditions: ColumnElement[bool]) -> tuple[int, datetime | None]:
    """How many failed attempts since `since` match `conditions`, and when the last of them was."""
    count, last = session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.at)).where(
            LoginAttempt.success.is_(False), LoginAttempt.at >= since, *conditions
        )
    ).one()
    return count, last


def _locked_out(
    session: Session,
    username: str,
    address: str,
    now: datetime,
    *,
    max_failures: int,
    window_s: int,
    address_max_failures: int | None,
    user_backoff_after: int | None,
    user_backoff_max_s: int,
) -> bool:
    since = now - timedelta(seconds=window_s)
    pair, _ = _failures(session, since, LoginAttempt.username == username, LoginAttempt.address == address)
    if pair >= max_failures:
        return True
    if address_max_failures is not None:
        by_address, _ = _failures(session, since, LoginAttempt.address == address)
        if by_address >= address_max_failures:
            return True
    if user_backoff_after is not None:
        by_user, last = _failures(session, since, LoginAttempt.username == username)
        if by_user >= user_backoff_after and last is not None:
            wait = min(2 ** min(by_user - user_backoff_after, 30), user_backoff_max_s)
            return now < as_utc(last) + timedelta(seconds=wait)
    return False


def authenticate(
    session: Session,
    username: str,
    password: str,
    address: str,
    now: datetime,
    *,
    max_failures: int,
    window_s: int,
    address_max_failures: int | None = None,
    user_backoff_after: int | None = None,
    user_backoff_max_s: int = 0,
) -> LoginOutcome:
    """Check a password unless a limit refuses the attempt first (then the password is not even checked):
    `max_failures` failures in `window_s` lock the pair (username, address) out until the window slides past
    them; `address_max_failures` failures from one address lock it out for every username; and once a
    username has `user_backoff_after` failures from anywhere, each further one doubles a wait (capped at
    `user_backoff_max_s`) before that username may try again. None switches a limit off."""
    username = fold_username(username)[:64]
    address = address[:64]
    # Attempts only matter inside the window (the audit log keeps every login for good).
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(seconds=window_s)))
    if _locked_out(
        session,
        username,
        address,
        now,
        max_failures=max_failures,
        window_s=window_s,
        address_max_failures=address_max_failures,
        user_backoff_after=user_backoff_after,
        user_backoff_max_s=user_backoff_max_s,
    ):
        return LoginOutcome(None, locked_out=True)
    user = find_user(session, username)
    try:
        ok = _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    except (VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(username=username, address=address, at=now, success=ok))
    if not ok or user is None:
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
