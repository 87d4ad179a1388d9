"""Subject references stay out of URLs and log lines (DESIGN.md section 5). The forms and the API that take a
reference send it in a POST body; a request whose query string still names a subject is refused with 400
without the value, and uvicorn's access log, which writes every request's path and query, gets the value of
any query parameter whose name holds 'subject' replaced, whatever the request was (defence in depth)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import unquote_plus

from fastapi import Request
from fastapi.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "[redacted]"
REFUSED = "subject references are not taken in a URL: send them in the body of a POST (the console's forms do)"
# A query string inside a logged request line: from '?' to the first space, quote or fragment.
_QUERY = re.compile(r"\?([^\s\"'#]*)")


def is_subject_name(raw_name: str) -> bool:
    """True for a query parameter name that is or holds 'subject' once decoded, in any case."""
    return "subject" in unquote_plus(raw_name).lower()


def names_subject(query: str) -> bool:
    """Whether a raw query string has a parameter whose name is or holds 'subject'."""
    return any(is_subject_name(part.partition("=")[0]) for part in query.split("&") if part)


def redact_query(query: str) -> str:
    """A raw query string with the value of every subject parameter replaced by [redacted]."""
    parts = []
    for part in query.split("&"):
        name, sep, _value = part.partition("=")
        parts.append(f"{name}={REDACTED}" if is_subject_name(name) and sep else part)
    return "&".join(parts)


def redact_text(text: str) -> str:
    """A log text (a request line, a URL) with every query string in it redacted as `redact_query` does."""
    return _QUERY.sub(lambda m: "?" + redact_query(m.group(1)), text) if "?" in text else text


class SubjectRedactingFilter(logging.Filter):
    """Rewrites a record's message and its string arguments (uvicorn's access log passes the path with its
    query string as one) so that no subject parameter's value reaches a handler. Keeps every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact_text(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True


def install_access_log_filter() -> None:
    """Put the filter on uvicorn's access logger, once. A logger's filters survive uvicorn's own logging set-up
    (dictConfig replaces handlers, not filters), and a record changed there is changed for every handler."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, SubjectRedactingFilter) for f in logger.filters):
        logger.addFilter(SubjectRedactingFilter())


class SubjectInUrlRefused:
    """ASGI middleware: a request naming a subject in its query string is answered 400 by `answer` (the
    console's error page or JSON), the value not repeated, whatever its path and method, before any route,
    405 or 404 handling sees it."""

    def __init__(self, app: ASGIApp, answer: Callable[[Request, str], Response]) -> None:
        self.app = app
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and names_subject(scope.get("query_string", b"").decode("latin-1")):
            await self.answer(Request(scope, receive), REFUSED)(scope, receive, send)
            return
        await self.app(scope, receive, send)
