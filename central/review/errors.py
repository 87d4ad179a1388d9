"""The one error the review and ledger services raise for a refused request; its message is for the user."""

from __future__ import annotations

from models.errors import RefusedError


class ReviewError(RefusedError):
    """A request the rules refuse, with a message a reviewer can act on (e.g. "claimed by alice until 10:05 UTC")."""
