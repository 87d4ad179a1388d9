"""Console options: cookie and session lifetimes, and the login lockout."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from models.base import StrictModel


class ConsoleConfig(StrictModel):
    cookie_secure: Annotated[
        bool | None,
        Field(description="Send cookies with the Secure flag; None = on unless the console listens on localhost."),
    ] = None
    session_ttl_s: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 8 * 3600
    login_max_failures: Annotated[int, Field(ge=1, le=100)] = 5
    login_window_s: Annotated[int, Field(ge=10, le=24 * 3600, description="Failures counted over this window.")] = 900
    page_size: Annotated[int, Field(ge=1, le=1000)] = 100
