"""Security headers on every console response, error pages and unexpected failures included."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.console.login import cookie_secure

# Pages load nothing from elsewhere and run no inline script; the API docs' Swagger UI is served from here too.
CSP = (
    "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# A year, the span browsers' preload lists ask for; sent only where the session cookie is Secure, since a
# browser that saw it over plain http would refuse the console until it expired.
HSTS = "max-age=31536000"


def _apply(request: Request, headers: MutableHeaders) -> None:
    headers["Content-Security-Policy"] = CSP
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Cache-Control", "no-store")
    if cookie_secure(request):
        headers["Strict-Transport-Security"] = HSTS


def add_security_headers(request: Request, response: Response) -> Response:
    _apply(request, response.headers)
    return response


class SecurityHeaders:
    """ASGI middleware setting the headers on each response as it starts. Plain ASGI rather than an
    `@app.middleware` function, which would run the app in a task group of its own and so wrap exceptions
    raised while the body is read (the body cap's 413) in an exception group nobody handles."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                _apply(request, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_secured)
