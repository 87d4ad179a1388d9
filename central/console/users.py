"""Admin page: the console's users, adding one (with a one-time password shown once), and switching one off
(which signs them out everywhere)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from central import audit
from central.console.accounts import create_account
from central.console.auth import AuthError
from central.console.deps import console, require, require_change
from central.console.filters import NO_NUL, RowId
from central.console.roles import ADMIN
from central.console.sessions import LiveSession, close_sessions_of
from central.console.settings_rows import settings_rows
from central.console.tables import ROLES
from central.console.view import render
from central.ledger import catalogue
from central.user_accounts import ConsoleUser

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    live: LiveSession,
    *,
    error: str | None = None,
    status_code: int = 200,
    created: tuple[str, str] | None = None,
) -> HTMLResponse:
    """`created` is (username, one-time password) of an account just added: shown on this answer only."""
    with console(request).tx() as session:
        people = list(session.scalars(select(ConsoleUser).order_by(ConsoleUser.username)))
    return render(
        request,
        "users.html",
        live,
        people=people,
        roles=ROLES,
        error=error,
        status_code=status_code,
        message=request.query_params.get("done") and "Saved.",
        created=created,
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, live: Annotated[LiveSession, Depends(require(ADMIN))]) -> HTMLResponse:
    return _page(request, live)


@router.post("/admin/users")
def create_user(
    request: Request,
    live: Annotated[LiveSession, Depends(require_change(ADMIN))],
    username: Annotated[str, Form(max_length=64, pattern=NO_NUL)],
    role: Annotated[str, Form(max_length=16, pattern=NO_NUL)],
) -> Response:
    try:
        with console(request).tx() as session:
            user, password = create_account(session, live.principal.username, username, role)
    except AuthError as exc:
        return _page(request, live, error=str(exc), status_code=422)
    # Answered here rather than after a redirect, so the password never appears in a URL or a later page.
    return _page(request, live, status_code=201, created=(user.username, password))


@router.post("/admin/users/{user_id}/active")
def set_active(
    request: Request,
    user_id: RowId,
    live: Annotated[LiveSession, Depends(require_change(ADMIN))],
    active: Annotated[bool, Form()],
) -> Response:
    with console(request).tx() as session:
        user = session.get(ConsoleUser, user_id)
        if user is None:
            raise HTTPException(404, "no such user")
        if user.id == live.principal.id and not active:
            raise HTTPException(409, "you cannot switch off your own account")
        user.active = active
        if not active:
            close_sessions_of(session, user.id)
        audit.record(
            session, live.principal.username, "user.activate" if active else "user.deactivate", target=user.username
        )
    return RedirectResponse("/admin/users?done=1", status_code=303)


@router.get("/admin/config", response_class=HTMLResponse)
def config_page(request: Request, live: Annotated[LiveSession, Depends(require(ADMIN))]) -> HTMLResponse:
    """The central settings in force and the points catalogue, read-only: they change through the CLI, audited."""
    ctx = console(request)
    with ctx.tx() as session:
        versions = catalogue.versions(session)
    rows = settings_rows(ctx.settings)
    return render(request, "config.html", live, rows=rows, versions=versions, console_config=ctx.config)
