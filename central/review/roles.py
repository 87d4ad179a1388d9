"""Who makes a review move, and which console roles may make which. The console passes the signed-in user as one
Actor; the services check its role, so no client can skip the check."""

from __future__ import annotations

from dataclasses import dataclass

from central.review.errors import ReviewError


@dataclass(frozen=True)
class Actor:
    """The name the history records and the role the rules check, taken together from one account (the console's
    `Principal.actor`), so a move can never be recorded under one user and checked against another's role."""

    name: str
    role: str


REVIEW_ROLES = frozenset({"reviewer", "supervisor", "admin"})
"""May claim, decide and rule on appeals."""
SUPERVISOR_ROLES = frozenset({"supervisor", "admin"})
"""May also reassign and reopen."""


def require_role(actor: Actor, allowed: frozenset[str], what: str) -> None:
    if actor.role not in allowed:
        raise ReviewError(f"{what} needs the role {' or '.join(sorted(allowed))}; you are {actor.role!r}")
