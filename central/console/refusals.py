"""Where a refusal by the review and ledger rules (ReviewError) is shown. One handler in app.py answers every one:
the API with JSON 409 `{"detail": message}`, a page's form with that page again, the message on it, also 409. A form
route names its page with `shown_on(page)` among its dependencies; without one a refusal gets the error page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from fastapi.responses import Response

from central.console.sessions import LiveSession

RefusedPage = Callable[[Request, LiveSession, str], Response]
"""The page a form was sent from, rendered again with the refusal's message and status 409."""


def shown_on(page: RefusedPage) -> Any:
    """A route dependency that tells the refusal handler which page to answer with."""

    def note_page(request: Request) -> None:
        request.state.refused_page = page

    return Depends(note_page)


def refused_page(request: Request) -> RefusedPage | None:
    page: RefusedPage | None = getattr(request.state, "refused_page", None)
    return page
