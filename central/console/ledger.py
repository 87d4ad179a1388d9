"""The ledger page: a subject's entries and balance per site, the chain check, and filing an appeal. A subject
reference is asked for by POST (the filter form, and each reference shown as a button): never in a URL, where
the browser's history, proxies and the server's access log would keep it (central/console/url_privacy.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from central.console.deps import console, now, require, require_change
from central.console.filters import NO_NUL, OPTIONAL_IDENT, OPTIONAL_SUBJECT, RowId
from central.console.refusals import shown_on
from central.console.roles import FILE_APPEAL, READ_LEDGER
from central.console.sessions import LiveSession
from central.console.view import render
from central.ledger import service as ledger
from central.ledger.tables import Appeal, LedgerEntry
from central.settings import CentralSettings

router = APIRouter(include_in_schema=False)
SubjectField = Annotated[str, Form(pattern=OPTIONAL_SUBJECT, max_length=64)]
SiteParam = Annotated[str, Query(pattern=OPTIONAL_IDENT, max_length=64, description="Site id; empty for all.")]
RECENT = 200


@dataclass
class LedgerView:
    entries: list[LedgerEntry]
    balances: dict[str, int]
    appeals: dict[int, Appeal]
    reversed_seqs: set[int]
    chain_problems: list[str]


def load_ledger(session: Session, subject: str, site: str, settings: CentralSettings) -> LedgerView:
    """The subject's entries (or the most recent ones when no subject is given) and balances per site."""
    rows = ledger.entries(session, subject_ref=subject or None, site=site or None)
    if not subject:
        rows = rows[-RECENT:]
    at = now()
    balances = (
        {s: ledger.balance(session, subject, s, at, settings) for s in sorted({e.site for e in rows})}
        if subject
        else {}
    )
    appeals = {a.entry_seq: a for a in ledger.appeals(session)}
    reversed_seqs = {e.reverses for e in ledger.entries(session) if e.reverses is not None}
    return LedgerView(rows, balances, appeals, reversed_seqs, ledger.verify_chain(session))


def ledger_page(
    request: Request, live: LiveSession, subject: str, site: str, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = console(request)
    with ctx.tx() as session:
        view = load_ledger(session, subject, site, ctx.settings)
    return render(
        request,
        "ledger.html",
        live,
        status_code=status_code,
        view=view,
        subject=subject,
        site=site,
        error=error,
        can_appeal=live.principal.role in FILE_APPEAL,
        message="Appeal filed." if request.query_params.get("done") == "appealed" else None,
    )


def refused(request: Request, live: LiveSession, message: str) -> HTMLResponse:
    return ledger_page(request, live, "", "", error=message, status_code=409)


@router.get("/ledger", response_class=HTMLResponse)
def ledger_view(
    request: Request, live: Annotated[LiveSession, Depends(require(READ_LEDGER))], site: SiteParam = ""
) -> HTMLResponse:
    """The most recent entries (of one site when given)."""
    return ledger_page(request, live, "", site)


@router.post("/ledger", response_class=HTMLResponse)
def ledger_search(
    request: Request,
    live: Annotated[LiveSession, Depends(require_change(READ_LEDGER))],
    subject: SubjectField = "",
    site: Annotated[str, Form(pattern=OPTIONAL_IDENT, max_length=64)] = "",
) -> HTMLResponse:
    """A subject's entries and balances, the reference in the form body."""
    return ledger_page(request, live, subject, site)


@router.post("/ledger/{seq}/appeal", dependencies=[shown_on(refused)])
def file_appeal(
    request: Request,
    seq: RowId,
    live: Annotated[LiveSession, Depends(require_change(FILE_APPEAL))],
    reason: Annotated[str, Form(min_length=1, max_length=20_000, pattern=NO_NUL)],
) -> Response:
    ctx = console(request)
    with ctx.tx() as session:
        appeal = ledger.open_appeal(session, seq, live.principal.username, reason, now(), ctx.settings)
    return RedirectResponse(f"/appeals?done=filed#appeal-{appeal.id}", status_code=303)
