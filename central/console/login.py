"""Signing in and out. The login form carries its own CSRF token (a cookie and a matching hidden field),
so no other site can sign a browser in under someone else's account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from central import audit
from central.console.auth import LoginOutcome, authenticate
from central.console.client_address import client_address
from central.console.deps import console, now, require_change
from central.console.filters import NO_NUL
from central.console.roles import ANYONE, home_for
from central.console.sessions import COOKIE_NAME, LiveSession, close_session, csrf_matches, open_session
from central.console.view import render

LOGIN_CSRF_COOKIE = "cw_login_csrf"
router = APIRouter(include_in_schema=False)


def cookie_secure(request: Request) -> bool:
    configured = console(request).config.cookie_secure
    if configured is not None:
        return configured
    return request.url.hostname not in ("localhost", "127.0.0.1", "::1")


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never `//host` or a full URL, which would make the form an open redirect."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")) and len(target) < 512:
        return target
    return None


@dataclass(frozen=True)
class SignIn:
    outcome: LoginOutcome
    at: datetime
    token: str = ""
    """The new session's token and CSRF token; empty when the attempt failed."""
    csrf: str = ""


def attempt_sign_in(request: Request, username: str, password: str, via: str | None = None) -> SignIn:
    """Check a password under the lockout rules and, when it is right, open a session; every attempt is
    audited with the caller's address (and `via`, for the API)."""
    ctx = console(request)
    address = client_address(request, ctx.config.trusted_proxies)
    details = {"address": address, **({"via": via} if via else {})}
    at = now()
    with ctx.tx() as session:
        outcome = authenticate(
            session,
            username,
            password,
            address,
            at,
            max_failures=ctx.config.login_max_failures,
            window_s=ctx.config.login_window_s,
            address_max_failures=ctx.config.login_address_max_failures,
            user_backoff_after=ctx.config.login_user_backoff_after,
            user_backoff_max_s=ctx.config.login_user_backoff_max_s,
        )
        if outcome.user is None:
            action = "login.locked_out" if outcome.locked_out else "login.failure"
            audit.record(session, username, action, details=details)
            return SignIn(outcome, at)
        token, csrf = open_session(session, outcome.user, at, ctx.config.session_ttl_s)
        audit.record(session, outcome.user.username, "login.success", details=details)
    return SignIn(outcome, at, token, csrf)


def _login_form(request: Request, *, error: str | None = None, status_code: int = 200, next_path: str = "") -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request, "login.html", None, status_code=status_code, error=error, login_csrf=token, next_path=next_path
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request), path="/login"
    )
    return response


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return _login_form(request, next_path=safe_next(next) or "")


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64, pattern=NO_NUL)],
    password: Annotated[str, Form(max_length=1024, pattern=NO_NUL)],
    csrf_token: Annotated[str | None, Form(max_length=128, pattern=NO_NUL)] = None,
    next: Annotated[str | None, Form(max_length=512, pattern=NO_NUL)] = None,
) -> Response:
    ctx = console(request)
    if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        return _login_form(request, error="The form expired; please sign in again.", status_code=403)
    attempt = attempt_sign_in(request, username, password)
    outcome, token = attempt.outcome, attempt.token
    if outcome.locked_out:
        return _login_form(request, error="Too many failed attempts; wait a while and try again.", status_code=429)
    if outcome.user is None:
        return _login_form(request, error="Wrong username or password.", status_code=401)
    response = RedirectResponse(safe_next(next) or home_for(outcome.user.role), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=ctx.config.session_ttl_s,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(
    request: Request, live: Annotated[LiveSession, Depends(require_change(ANYONE, password_due_ok=True))]
) -> Response:
    with console(request).tx() as session:
        close_session(session, live.token_hash)
        audit.record(session, live.principal.username, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE_NAME, path="/")
    return response
