"""Console tables: server-side login sessions and login attempts (for rate limiting). The users table is
central.user_accounts, below the console, since separation of duties reads it too."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from central.db import Base
from central.timeutil import UTCDateTime

ROLES = ("reviewer", "supervisor", "auditor", "admin")
HOST_OPERATOR = "(host operator)"
"""The credential issuer of an account made or reset from the shell (`curbwatch central user`, the demo): whoever
runs commands on the host, who owns the database anyway. No username can take this value (no spaces or brackets)."""


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
