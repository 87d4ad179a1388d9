"""A subject's own record: a supervisor or auditor gives a subject reference and its site and gets the
printable, self-contained page of everything the ledger holds for it there. Audited without the reference
itself (the audit log never holds one): the entry names the site and the ledger entries the record shows. The
reference comes in a POST body, never in the URL (central/console/url_privacy.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from central import audit
from central.console.deps import console, now, require, require_change
from central.console.filters import OPTIONAL_IDENT, SUBJECT_PATTERN
from central.console.roles import READ_REPORTS
from central.console.sessions import LiveSession
from central.console.view import render
from central.subject_record.record import gather
from central.subject_record.render import to_html

router = APIRouter(include_in_schema=False)
AUDIT_ACTION = "report.subject"


@router.get("/subject-report", response_class=HTMLResponse)
def subject_report_form(request: Request, live: Annotated[LiveSession, Depends(require(READ_REPORTS))]) -> HTMLResponse:
    return render(request, "subject_report.html", live)


@router.post("/subject-report/download")
def subject_report(
    request: Request,
    live: Annotated[LiveSession, Depends(require_change(READ_REPORTS))],
    subject: Annotated[str, Form(pattern=SUBJECT_PATTERN, max_length=64)],
    site: Annotated[str, Form(pattern=OPTIONAL_IDENT, min_length=1, max_length=64)],
) -> Response:
    """The record as a download. POST, the reference in the form body: a reference never goes into a URL,
    where the browser's history, a proxy and the server's access log would keep it."""
    ctx = console(request)
    at = now()
    with ctx.tx() as session:
        record = gather(session, ctx.store, subject, site, at, ctx.settings)
        seqs = [item.entry.seq for item in record.entries]
        audit.record(session, live.principal.username, AUDIT_ACTION, f"site:{site}", {"entries": seqs}, now=at)
    return Response(
        to_html(record, ctx.settings.appeal_window_days),
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="record-{site}-{at:%Y%m%d}.html"'},
    )
