"""The console application: pages, the /api/v1 JSON API, static files and the error pages."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from central.console import (
    accuracy,
    api,
    api_docs,
    appeals,
    audit_log,
    cameras,
    db_health,
    item,
    ledger,
    litter,
    login,
    password,
    queue,
    reports,
    subject_report,
    tuning,
    users,
)
from central.console.body_limit import BodyLimit
from central.console.deps import Console, Forbidden, NotSignedIn, PasswordChangeDue, signed_in
from central.console.headers import SecurityHeaders, add_security_headers
from central.console.refusals import refused_page
from central.console.roles import home_for
from central.console.sessions import LiveSession
from central.console.url_privacy import SubjectInUrlRefused, install_access_log_filter
from central.console.view import make_templates, render
from central.console.zone_editor import routes as zone_editor
from central.console_settings import ConsoleConfig
from central.db_outage import is_unavailable
from central.evidence_store import EvidenceStore
from central.review.errors import ReviewError

log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
API_PREFIX = "/api/"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _viewer(request: Request) -> LiveSession | None:
    """The signed-in caller of a page that ends in an error, for its navigation bar; None when there is none
    (signed out, a password to change) or it cannot be looked up (the failure may be the database's)."""
    try:
        return signed_in(request)[0]
    except Exception:
        return None


def _error(request: Request, status: int, message: str, live: LiveSession | None = None) -> Response:
    """The error answer, with the security headers set here too: an unexpected failure is answered from
    outside the middleware that sets them on every other response. A page gets `live`'s navigation bar."""
    if _is_api(request):
        response: Response = JSONResponse({"detail": message}, status_code=status)
    else:
        response = render(request, "error.html", live, status_code=status, status=status, message=message)
    return add_security_headers(request, response)


async def _error_page(request: Request, status: int, message: str) -> Response:
    """`_error`, looking the caller up off the event loop for a page (the API's answer needs no one)."""
    live = None if _is_api(request) else await run_in_threadpool(_viewer, request)
    return _error(request, status, message, live)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "sign in first"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path if request.method == "GET" else "/"
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(PasswordChangeDue)
    async def password_change_due(request: Request, _exc: PasswordChangeDue) -> Response:
        if _is_api(request):
            detail = f"choose a new password first, at {password.PATH} or with POST {password.API_PATH}"
            return JSONResponse({"detail": detail}, status_code=403)
        return RedirectResponse(password.PATH, status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return await _error_page(request, 403, exc.message)

    @app.exception_handler(ReviewError)
    def refused(request: Request, exc: ReviewError) -> Response:
        # The transaction has rolled back; the message says why and what to do. Sync: a page reads the database.
        page = refused_page(request)
        if _is_api(request) or page is None:
            return _error(request, 409, str(exc), None if _is_api(request) else _viewer(request))
        live, _cookie = signed_in(request)
        return page(request, live, str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        response = await _error_page(request, exc.status_code, message)
        response.headers.update(exc.headers or {})  # e.g. a 416's Content-Range
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))}
            for error in exc.errors()
        ]
        if _is_api(request):
            return JSONResponse({"detail": problems}, status_code=422)
        summary = "; ".join(f"{'.'.join(p['loc'][1:]) or 'request'}: {p['msg']}" for p in problems)
        return await _error_page(request, 422, f"invalid input: {summary}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The trace goes to the log only; the caller learns nothing about the internals.
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return await _error_page(request, 500, "internal error; it has been logged")

    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> Response:
        # A lost database (a failover) is no bug: the transaction rolled back, and the same request succeeds
        # once the database is back. Any other refusal by the database is one.
        if not is_unavailable(exc):
            return await unexpected(request, exc)
        # No navigation bar: looking the caller up would wait on the missing database a second time.
        response = _error(request, 503, db_health.unavailable_message(request.app.state.console, exc))
        response.headers.update(db_health.retry_after())
        return response


def create_app(
    settings: Any,
    factory: sessionmaker[Session],
    store: EvidenceStore,
    config: ConsoleConfig | None = None,
) -> FastAPI:
    """The console over `factory`'s database and `store`'s evidence. `settings` is the central settings
    (review reasons, second-review threshold, ...)."""
    app = FastAPI(
        title="curbwatch console API",
        version="1",
        description="Review queue, decisions, appeals, ledger, audit log, camera health and accuracy. "
        "Sign in with POST /api/v1/session and send the token as `Authorization: Bearer TOKEN`, "
        "or use the console's session cookie with the `X-CSRF-Token` header on changes.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    install_access_log_filter()
    config = config or settings.console
    app.state.console = Console(settings, factory, store, config, make_templates())
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.mount(api_docs.ASSETS_PATH, StaticFiles(directory=str(api_docs.ASSETS)), name="api_docs_assets")

    # Innermost, so that the security headers go on its answers too.
    app.add_middleware(SubjectInUrlRefused, answer=lambda request, message: _error(request, 400, message))
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    app.add_middleware(SecurityHeaders)

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        try:
            live, _cookie = signed_in(request)
        except NotSignedIn:
            return RedirectResponse("/login", status_code=303)
        return RedirectResponse(home_for(live.principal.role), status_code=303)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        # Browsers ask for /favicon.ico even where a page links its icon: the same drawing, not a 404 in the log.
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    pages = (login, queue, item, appeals, ledger, audit_log, cameras, litter, accuracy, tuning, reports, subject_report)
    for module in (*pages, users, zone_editor):
        app.include_router(module.router)
    app.include_router(password.router)
    app.include_router(db_health.router)
    app.include_router(api_docs.router)
    app.include_router(api.router)
    _install_error_handlers(app)
    return app
