"""Console options: cookie and session lifetimes, the login limits, the proxies trusted to name the client,
the request body cap and how evidence views are grouped in the audit log."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, IPvAnyNetwork

from models.base import StrictModel


class ConsoleConfig(StrictModel):
    cookie_secure: Annotated[
        bool | None,
        Field(description="Send cookies with the Secure flag; None = on unless the console listens on localhost."),
    ] = None
    session_ttl_s: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 8 * 3600
    login_max_failures: Annotated[
        int, Field(ge=1, le=100, description="Failures of one username from one address before a lockout.")
    ] = 5
    login_window_s: Annotated[int, Field(ge=10, le=24 * 3600, description="Failures counted over this window.")] = 900
    login_address_max_failures: Annotated[
        int,
        Field(ge=1, le=10_000, description="Failures from one address, whatever the usernames, before a lockout."),
    ] = 30
    login_user_backoff_after: Annotated[
        int,
        Field(
            ge=1,
            le=1000,
            description="Failures of one username from all addresses together after which each further failure "
            "doubles a wait (1 s, 2 s, 4 s, ...) before that username may try again.",
        ),
    ] = 10
    login_user_backoff_max_s: Annotated[
        int, Field(ge=1, le=24 * 3600, description="The longest per-username wait.")
    ] = 300
    trusted_proxies: Annotated[
        list[IPvAnyNetwork],
        Field(
            max_length=100,
            description="Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; the "
            "header is ignored from anyone else.",
        ),
    ] = []
    max_body_bytes: Annotated[
        int, Field(ge=1024, le=64 * 1024 * 1024, description="Larger request bodies are refused with 413.")
    ] = 1024 * 1024
    evidence_view_group_s: Annotated[
        int,
        Field(
            ge=0,
            le=24 * 3600,
            description="Byte-range requests for the same evidence by the same user within this many seconds of "
            "their last audited view of it count as that viewing (a video played in ranges); 0 audits each one.",
        ),
    ] = 300
    page_size: Annotated[int, Field(ge=1, le=1000)] = 100
