"""The Reports page: a site's transparency report for a period, on screen with its chart, and as the
self-contained HTML page, CSV or JSON to download. Each report made here is audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from central.console.deps import console, now, require
from central.console.filters import OPTIONAL_IDENT
from central.console.roles import READ_REPORTS
from central.console.sessions import LiveSession
from central.console.view import render
from central.tables import Infraction
from central.transparency import render as report_render
from central.transparency import service
from central.transparency.chart import bar_chart
from central.transparency.queries import Period

router = APIRouter(include_in_schema=False)
SiteParam = Annotated[str, Query(pattern=OPTIONAL_IDENT, max_length=64, description="Site id.")]
DayParam = Annotated[date | None, Query(description="A day, YYYY-MM-DD (UTC).")]


def _span(site: str, first: date | None, last: date | None) -> Period:
    try:
        return service.requested_period(site, first, last, now().date(), service.month_to_date)
    except ValueError as exc:
        # Days that make no period (out of order, or past the last day a period can end on) are a bad request.
        raise HTTPException(400, str(exc)) from None


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    live: Annotated[LiveSession, Depends(require(READ_REPORTS))],
    site: SiteParam = "",
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> HTMLResponse:
    ctx = console(request)
    with ctx.tx() as session:
        sites = list(session.scalars(select(Infraction.site).distinct().order_by(Infraction.site)))
        span = _span(site or (sites[0] if sites else "none"), first, last)
        report = None
        if site:
            report = service.build(session, span, ctx.settings, now())
            service.audit_made(session, span, ctx.settings, live.principal.username, "page", now())
    return render(
        request,
        "reports.html",
        live,
        sites=sites,
        site=site,
        span=span,
        threshold=ctx.settings.disclosure_threshold,
        report=report,
        not_for_publication=service.publication_refusal(span, now().date()),
        last_month=service.default_days(now().date()),
        chart=bar_chart(report) if report else None,
        cell_text=(lambda key, shown: report_render.cell_text(report, key, shown)) if report else None,
    )


@router.get("/reports/download")
def download(
    request: Request,
    live: Annotated[LiveSession, Depends(require(READ_REPORTS))],
    site: Annotated[str, Query(pattern=OPTIONAL_IDENT, min_length=1, max_length=64)],
    form: Annotated[Literal["html", "csv", "json"], Query(alias="format")] = "html",
    first: Annotated[date | None, Query(alias="from")] = None,
    last: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    ctx = console(request)
    # What is downloaded is what gets published: by default the last complete month, as the command line.
    try:
        span = service.requested_period(site, first, last, now().date())
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    refusal = service.publication_refusal(span, now().date())
    if refusal is not None:
        raise HTTPException(400, f"{refusal}; the Reports page shows any period on screen")
    with ctx.tx() as session:
        text = service.produce(session, span, ctx.settings, live.principal.username, form, now())
    name = f"transparency-{site}-{span.start:%Y-%m-%d}-{span.last_day}.{form}"
    return Response(
        text,
        media_type=report_render.MEDIA_TYPES[form],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
