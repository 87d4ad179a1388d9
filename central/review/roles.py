"""Which console roles may make which review moves. The console passes the signed-in user's role; the
services check it, so no client can skip the check."""

from __future__ import annotations

from central.review.errors import ReviewError

REVIEW_ROLES = frozenset({"reviewer", "supervisor", "admin"})
"""May claim, decide and rule on appeals."""
SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
"""May also reassign and reopen."""


def require_role(role: str, allowed: frozenset[str], what: str) -> None:
    if role not in allowed:
        raise ReviewError(f"{what} needs the role {' or '.join(sorted(allowed))}; you are {role!r}")
