"""The console's view of its database: `/healthz` for a load balancer or a person, and the sentence every page
and API call answers with (503) while the database cannot be reached, such as during a failover. Both say
since when: the engine records an outage from its first failed connection (central/db_outage.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from central.console.deps import Console, console
from central.console.health import span
from central.db_outage import Down, is_read_only, is_unavailable, outage_of

router = APIRouter(include_in_schema=False)
RETRY_AFTER_S = 5


def _down(ctx: Console) -> Down | None:
    outage = outage_of(ctx.factory.kw["bind"])
    return None if outage is None else outage.down


def unavailable_message(ctx: Console, error: BaseException, at: datetime | None = None) -> str:
    """What a caller is told while the database cannot take the request: that it is so, since when if known, and
    to try again."""
    if is_read_only(error):
        return "database unavailable: it takes no writes now (a standby); try again in a moment"
    down = _down(ctx)
    if down is None:
        return "database unavailable; try again in a moment"
    at = at or datetime.now(UTC)
    since = f"{down.since:%Y-%m-%d %H:%M:%S} UTC, {span((at - down.since).total_seconds())} ago"
    return f"database unavailable since {since}; try again in a moment"


def _writable(ctx: Console) -> bool:
    """Whether the database takes writes: a standby (a URL naming one host, after a failover moved the primary)
    answers queries but refuses every change."""
    with ctx.factory() as session:
        if session.get_bind().dialect.name != "postgresql":
            session.execute(text("SELECT 1"))
            return True
        return session.execute(text("SHOW transaction_read_only")).scalar_one() == "off"


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    """No sign-in needed, and nothing but the state and its start: `{"database": "ok"}` (200), or
    `"unavailable"` / `"read-only"` with `since` (503)."""
    ctx = console(request)
    try:
        writable = await run_in_threadpool(_writable, ctx)
    except SQLAlchemyError as exc:
        if not is_unavailable(exc):
            raise
        down = _down(ctx)
        since = down.since.isoformat() if down else None
        return JSONResponse({"database": "unavailable", "since": since}, status_code=503, headers=retry_after())
    if not writable:
        return JSONResponse({"database": "read-only", "since": None}, status_code=503, headers=retry_after())
    return JSONResponse({"database": "ok"})


def retry_after() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_S)}
