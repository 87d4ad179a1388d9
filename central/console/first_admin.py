"""The first admin account of a new installation, for `curbwatch demo`: a random one-time password that the
console makes its holder replace at the first sign-in."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from central.console.accounts import create_account
from central.console.auth import find_user
from central.console.tables import HOST_OPERATOR
from central.db import transaction

ADMIN_USERNAME = "admin"


def ensure_first_admin(factory: sessionmaker[Session], actor: str) -> str | None:
    """Create `admin` unless it exists; returns its one-time password, or None when it existed already. The shell
    made it, so its credential issuer is the host operator."""
    with transaction(factory) as session:
        if find_user(session, ADMIN_USERNAME) is not None:
            return None
        _user, password = create_account(session, actor, ADMIN_USERNAME, "admin", issued_by=HOST_OPERATOR)
    return password
