"""A cap on request bodies: a declared Content-Length over it is refused before a byte is read, and a chunked
body is refused as soon as it passes it, so no request can make the server hold a large body in memory."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyLimit:
    """ASGI middleware: the app's `receive` raises HTTPException(413) instead of delivering a body over
    `max_bytes`, which the console's error handlers turn into its usual JSON or page answer."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        over = declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            if not over:
                message = await receive()
                if message["type"] != "http.request":
                    return message
                seen += len(message.get("body", b""))
                if seen <= self.max_bytes:
                    return message
            raise HTTPException(413, f"the request body is over {self.max_bytes} bytes")

        await self.app(scope, limited, send)
