"""Console accounts as central stores them: the users table and the form in which two usernames are compared.
Below the console and the review services alike: the console signs people in with them, and separation of duties
(central.review.separation) traces both reviews of a deduction to the accounts that gave them."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import Boolean, Integer, String, false, func
from sqlalchemy.orm import Mapped, mapped_column

from central.db import Base
from central.timeutil import UTCDateTime


def fold_username(username: str) -> str:
    """The form two usernames are compared in: `Alice`, `alice` and a full-width `ａｌｉｃｅ` are one name."""
    return unicodedata.normalize("NFKC", username).casefold()


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
    (a username), or HOST_OPERATOR (central.console.tables) for the shell. The two reviews of a deduction may not
    both trace to one person through it (central.review.separation)."""
