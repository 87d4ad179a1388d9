"""Rendering pages: every template gets the signed-in user, the navigation their role may see and the
session's CSRF token for its forms."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from central.console.appeal_words import action_words, appeal_state
from central.console.deps import CSRF_FIELD, console
from central.console.event_time import utc_text
from central.console.roles import NAVIGATION, ROLE_WORDS
from central.console.sessions import LiveSession
from central.subject_mark import mark_svg
from central.timeutil import as_utc
from models.rule_catalogue import RULES

TEMPLATES = Path(__file__).with_name("templates")


def _utc(value: datetime | None) -> str:
    return "" if value is None else utc_text(value)


def _age(value: datetime, now: datetime) -> str:
    seconds = max(0, int((now - as_utc(value)).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters["utc"] = _utc
    templates.env.filters["age"] = _age
    templates.env.filters["appeal_state"] = appeal_state
    templates.env.filters["action_words"] = action_words
    templates.env.filters["subject_mark"] = mark_svg
    templates.env.globals["rule_catalogue"] = RULES
    return templates


def render(
    request: Request, template: str, live: LiveSession | None, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    nav = [] if live is None else [(label, path) for label, path, roles in NAVIGATION if live.principal.role in roles]
    return console(request).templates.TemplateResponse(
        request,
        template,
        {
            "user": None if live is None else live.principal,
            "role_words": None if live is None else ROLE_WORDS.get(live.principal.role, live.principal.role),
            "nav": nav,
            "csrf_field": CSRF_FIELD,
            "csrf_token": "" if live is None else live.csrf_token,
            **context,
        },
        status_code=status_code,
    )
