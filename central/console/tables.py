"""Console tables: users, server-side login sessions and login attempts (for rate limiting)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from central.db import Base
from central.timeutil import UTCDateTime

ROLES = ("reviewer", "supervisor", "auditor", "admin")
HOST_OPERATOR = "(host operator)"
"""The credential issuer of an account made or reset from the shell (`curbwatch central user`, the demo): whoever
runs commands on the host, who owns the database anyway. No username can take this value (no spaces or brackets)."""


class ConsoleUser(Base):
    """A person who signs in to the console. Only the argon2 hash of the password is kept."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    username_key: Mapped[str] = mapped_column(String(80), unique=True, index=True)
    """The username NFKC-normalised and casefolded: no two accounts share it, so `Alice` cannot sit beside
    `alice`. (Accounts that clashed before this rule hold `KEY#ID` and are switched off.)"""
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Set for a one-time password: every page but the change-password form waits for a new one."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    credential_issuer: Mapped[str] = mapped_column(String(64))
    """Who last gave this account a password someone else could know: the admin who created it or last reset it
    (a username), or HOST_OPERATOR for the shell. The two reviews of a deduction may not both trace to one person
    through it (central.review.separation)."""


class ConsoleSession(Base):
    """A signed-in browser or API client. The cookie holds a random token; only its sha256 is stored,
    so a copy of the database cannot be replayed as a login."""

    __tablename__ = "console_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LoginAttempt(Base):
    """One login try; failures inside the window count towards the lockouts and the backoff. `username` is the
    folded name that was tried."""

    __tablename__ = "console_login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
