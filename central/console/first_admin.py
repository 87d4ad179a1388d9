"""The first admin account of a new installation, for `curbwatch demo`: a random one-time password that the
console makes its holder replace at the first sign-in."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from central import audit
from central.console.auth import add_user
from central.console.tables import ConsoleUser
from central.db import transaction

ADMIN_USERNAME = "admin"


def ensure_first_admin(factory: sessionmaker[Session], actor: str) -> str | None:
    """Create `admin` unless it exists; returns its one-time password, or None when it existed already."""
    with transaction(factory) as session:
        if session.scalar(select(ConsoleUser.id).where(ConsoleUser.username == ADMIN_USERNAME)) is not None:
            return None
        password = secrets.token_urlsafe(12)
        add_user(session, ADMIN_USERNAME, password, "admin", must_change_password=True)
        audit.record(session, actor, "user.add", target=ADMIN_USERNAME, details={"role": "admin", "one_time": True})
    return password
