"""Changing one's own password: needs the current one; a one-time password (every account an admin or the demo
creates) must be replaced here, or with POST /api/v1/me/password, before anything else opens. Every other
session of the user is signed out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import delete

from central import audit
from central.console.auth import AuthError, check_password_rules, hash_password, password_matches
from central.console.deps import console, require, require_change
from central.console.filters import NO_NUL
from central.console.roles import ANYONE, home_for
from central.console.sessions import LiveSession
from central.console.tables import ConsoleSession
from central.console.view import render
from central.user_accounts import ConsoleUser

PATH = "/account/password"
API_PATH = "/api/v1/me/password"
router = APIRouter(include_in_schema=False)


def _form(request: Request, live: LiveSession, *, error: str | None = None, status_code: int = 200) -> HTMLResponse:
    return render(
        request,
        "password.html",
        live,
        error=error,
        status_code=status_code,
        due=live.principal.must_change_password,
    )


@router.get(PATH, response_class=HTMLResponse)
def password_page(
    request: Request, live: Annotated[LiveSession, Depends(require(ANYONE, password_due_ok=True))]
) -> HTMLResponse:
    return _form(request, live)


def change_own_password(request: Request, live: LiveSession, current: str, new: str) -> None:
    """Replace the signed-in user's password (AuthError with a message fit to show when refused), sign out
    their other sessions and audit it."""
    if new == current:
        raise AuthError("the new password must differ from the current one")
    check_password_rules(new, live.principal.username)
    with console(request).tx() as session:
        user = session.get(ConsoleUser, live.principal.id)
        if user is None or not password_matches(user, current):
            raise AuthError("the current password is wrong")
        was_one_time = user.must_change_password
        user.password_hash = hash_password(new)
        user.must_change_password = False
        session.execute(
            delete(ConsoleSession).where(
                ConsoleSession.user_id == user.id, ConsoleSession.token_hash != live.token_hash
            )
        )
        audit.record(
            session, user.username, "user.password_change", target=user.username, details={"one_time": was_one_time}
        )


@router.post(PATH)
def change_password(
    request: Request,
    live: Annotated[LiveSession, Depends(require_change(ANYONE, password_due_ok=True))],
    current: Annotated[str, Form(max_length=1024, pattern=NO_NUL)],
    new: Annotated[str, Form(max_length=1024, pattern=NO_NUL)],
    repeat: Annotated[str, Form(max_length=1024, pattern=NO_NUL)],
) -> Response:
    try:
        if new != repeat:
            raise AuthError("the two new passwords differ")
        change_own_password(request, live, current, new)
    except AuthError as exc:
        return _form(request, live, error=str(exc), status_code=422)
    return RedirectResponse(home_for(live.principal.role), status_code=303)
