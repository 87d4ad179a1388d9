"""Producing a transparency report: read, compute, hide small figures, write out, and audit that it was made."""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.orm import Session

from central import audit
from central.settings import CentralSettings
from central.transparency import figures, queries, render
from central.transparency.disclosure import Disclosed, disclose

AUDIT_ACTION = "report.transparency"
# A period ends at the start of the day after its last: the day after date.max does not exist.
LAST_DAY = date.max - timedelta(days=1)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def month_of(day: date) -> tuple[date, date]:
    """First and last day of the calendar month holding `day` (December 9999 too: no day after it is needed)."""
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def default_days(today: date) -> tuple[date, date]:
    """The last complete calendar month: what a site publishes."""
    return month_of(today.replace(day=1) - timedelta(days=1))


def month_to_date(today: date) -> tuple[date, date]:
    """The first day of `today`'s month to `today`: what the console's Reports page shows first, so that the
    events of the last days (a demo's, a new camera's) are in the first report made."""
    return today.replace(day=1), today


def period(site: str, first_day: date, last_day: date) -> queries.Period:
    """The days from `first_day` to `last_day`, both included, in UTC; ValueError, with a message fit to show, for
    days out of order or a last day past LAST_DAY."""
    if last_day < first_day:
        raise ValueError(f"the period ends ({last_day}) before it starts ({first_day})")
    if last_day > LAST_DAY:
        raise ValueError(f"a period can end on {LAST_DAY} at the latest, not {last_day}")
    return queries.Period(site, day_start(first_day), day_start(last_day + timedelta(days=1)))


def requested_period(
    site: str,
    first_day: date | None,
    last_day: date | None,
    today: date,
    default: Callable[[date], tuple[date, date]] = default_days,
) -> queries.Period:
    """The period a console request or the command line names: both days; one of them, and the rest of its
    month; or neither, and `default(today)` (the command line: the last complete month; the console: the month
    to date). ValueError as `period`."""
    if first_day is None:
        if last_day is None:
            return period(site, *default(today))
        first_day = month_of(last_day)[0]
    return period(site, first_day, last_day or month_of(first_day)[1])


def publication_refusal(span: queries.Period, today: date) -> str | None:
    """Why a report for `span` may not be published (downloaded, or written by the command line), or None when it
    may: only one whole calendar month that has ended. Two overlapping periods subtracted give back what each
    hides (Nov 1-30 minus Nov 1-19 is Nov 20-30), a month published before its end overlaps its later self, and
    a quarter or a year minus all but one of its months gives back that month's hidden figures."""
    first, last = span.start.date(), span.last_day
    if (first, last) == month_of(first) and last < today:
        return None
    example = default_days(today)
    return (
        f"{first} to {last} is not for publication: only a whole calendar month that has ended is published "
        f"({example[0]} to {example[1]}, for instance), because overlapping periods subtracted would give back "
        f"figures each of them hides"
    )


def audit_made(
    session: Session, span: queries.Period, settings: CentralSettings, actor: str, form: str, as_of: datetime
) -> None:
    """Record that a report was made: who, for which site and days, in which form (the console's page is "page")."""
    details = {"from": span.start, "to": span.end, "format": form, "threshold": settings.disclosure_threshold}
    audit.record(session, actor, AUDIT_ACTION, f"site:{span.site}", details, now=as_of)


def build(
    session: Session,
    span: queries.Period,
    settings: CentralSettings,
    as_of: datetime,
) -> Disclosed:
    """The figures of the period with the settings' threshold: the one who asks does not choose it."""
    rows = queries.load(session, span)
    return disclose(figures.compute(rows, settings.reject_reasons, as_of), settings.disclosure_threshold)


def produce(
    session: Session,
    span: queries.Period,
    settings: CentralSettings,
    actor: str,
    form: str,
    as_of: datetime,
) -> str:
    """The report in `form` (html, csv, json), with an audit entry saying who made which one."""
    report = build(session, span, settings, as_of)
    text = render.write(report, form)
    audit_made(session, span, settings, actor, form, as_of)
    return text
