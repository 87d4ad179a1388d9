"""Server-side login sessions: a random token in an HttpOnly cookie (or a Bearer header for API clients),
its sha256 in the database, and a CSRF token bound to the session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from central.console.auth import Principal, principal_of
from central.console.tables import ConsoleSession
from central.timeutil import as_utc
from central.user_accounts import ConsoleUser

COOKIE_NAME = "cw_session"


@dataclass(frozen=True)
class LiveSession:
    principal: Principal
    csrf_token: str
    token_hash: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def open_session(session: Session, principal: Principal, now: datetime, ttl_s: int) -> tuple[str, str]:
    """Start a session; returns (token for the cookie, CSRF token). Expired sessions are swept here."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now))
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=_digest(token),
            user_id=principal.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl_s),
        )
    )
    return token, csrf


def find_session(session: Session, token: str | None, now: datetime) -> LiveSession | None:
    if not token or len(token) > 128:
        return None
    row = session.execute(
        select(ConsoleSession, ConsoleUser)
        .join(ConsoleUser, ConsoleUser.id == ConsoleSession.user_id)
        .where(ConsoleSession.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    live, user = row
    if as_utc(live.expires_at) <= now or not user.active:
        return None
    return LiveSession(principal_of(user), live.csrf_token, live.token_hash)


def close_session(session: Session, token_hash: str) -> None:
    session.execute(delete(ConsoleSession).where(ConsoleSession.token_hash == token_hash))


def close_sessions_of(session: Session, user_id: int) -> None:
    """Sign a user out everywhere (deactivation, password change)."""
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user_id))


def csrf_matches(expected: str, given: str | None) -> bool:
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
