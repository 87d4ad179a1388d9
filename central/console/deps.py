"""Request plumbing shared by every page and API route: the console context, who is signed in,
role checks and CSRF checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from central.console.sessions import COOKIE_NAME, LiveSession, csrf_matches, find_session
from central.console_settings import ConsoleConfig
from central.db import transaction
from central.evidence_store import EvidenceStore
from models.errors import RefusedError

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class NotSignedIn(RefusedError):
    """No valid session: pages redirect to the login form, the API answers 401."""


class PasswordChangeDue(RefusedError):
    """Signed in with a one-time password: pages lead to the change-password form, the API answers 403."""


class Forbidden(RefusedError):
    """Signed in, but the role may not do this (or the CSRF token is missing or wrong)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Console:
    settings: Any
    factory: sessionmaker[Session]
    store: EvidenceStore
    config: ConsoleConfig
    templates: Jinja2Templates

    @contextmanager
    def tx(self) -> Iterator[Session]:
        with transaction(self.factory) as session:
            yield session


def console(request: Request) -> Console:
    return request.app.state.console


def now() -> datetime:
    return datetime.now(UTC)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def signed_in(request: Request, *, password_due_ok: bool = False) -> tuple[LiveSession, bool]:
    """The caller's session and whether it came from the cookie (cookies need CSRF checks; a Bearer header
    is never sent by a browser on its own, so it does not). Unless `password_due_ok`, a user who must
    choose a new password gets no further than that."""
    bearer = _bearer(request)
    token = bearer or request.cookies.get(COOKIE_NAME)
    with console(request).tx() as session:
        live = find_session(session, token, now())
    if live is None:
        raise NotSignedIn()
    if live.principal.must_change_password and not password_due_ok:
        raise PasswordChangeDue()
    return live, bearer is None


def require(roles: frozenset[str], *, password_due_ok: bool = False) -> Callable[[Request], LiveSession]:
    """A dependency for reading: signed in with one of `roles`."""

    def dependency(request: Request) -> LiveSession:
        live, _cookie = signed_in(request, password_due_ok=password_due_ok)
        if live.principal.role not in roles:
            raise Forbidden(f"the {live.principal.role} role may not see this")
        return live

    return dependency


def require_change(roles: frozenset[str], *, password_due_ok: bool = False) -> Callable[[Request], Any]:
    """A dependency for changing things: signed in with one of `roles`, and the session's CSRF token in the
    form field (pages) or the X-CSRF-Token header (API calls made with the cookie)."""

    async def dependency(request: Request) -> LiveSession:
        # The lookup is blocking database work: keep it off the event loop.
        live, from_cookie = await run_in_threadpool(lambda: signed_in(request, password_due_ok=password_due_ok))
        if from_cookie:
            given = request.headers.get(CSRF_HEADER)
            if given is None and request.headers.get("content-type", "").startswith(
                ("application/x-www-form-urlencoded", "multipart/form-data")
            ):
                value = (await request.form()).get(CSRF_FIELD)
                given = value if isinstance(value, str) else None
            if not csrf_matches(live.csrf_token, given):
                raise Forbidden("the form is missing its CSRF token or it is stale; reload the page and try again")
        if live.principal.role not in roles:
            raise Forbidden(f"the {live.principal.role} role may not do this")
        return live

    return dependency
