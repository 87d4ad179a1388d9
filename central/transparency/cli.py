"""`curbwatch central report`: a site's transparency report for a period, as HTML, CSV or JSON (audited)."""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from pathlib import Path

import click

from central.transparency.render import FORMATS


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date such as 2026-03-01") from None


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@click.command("report")
@click.option("--site", required=True, help="The site the report is for.")
@click.option("--from", "first", callback=_day, help="First day (UTC), e.g. 2026-03-01; default: last month's.")
@click.option("--to", "last", callback=_day, help="Last day included; default: the end of --from's month.")
@click.option("--format", "form", type=click.Choice(FORMATS), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="File to write; default standard output.")
@click.option("--db", "db_url", help="SQLAlchemy URL; default from --settings, else ./data.")
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False), help="Central settings file (YAML).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Data folder (SQLite database and, without a settings file, checkpoints); default the settings' data_dir.",
)
def report(
    site: str,
    first: date | None,
    last: date | None,
    form: str,
    out: str | None,
    db_url: str | None,
    settings_path: str | None,
    data_dir: str | None,
) -> None:
    """Write SITE's transparency report: per camera and rule, events received and quarantined, decisions,
    rejections by reason, second reviews that disagreed, appeals, points deducted, reversed and expired,
    evidence purged and the median time to decision. No subject reference, image or free text; small figures
    hidden. Only a whole calendar month that has ended is reported (overlapping periods subtracted would give
    back hidden figures). Making it is recorded in the audit log."""
    from sqlalchemy.exc import SQLAlchemyError

    from central.checkpoint_log import CheckpointFolder, FolderOfAnotherLedger, ledger_id, watch
    from central.data_dir import with_data_dir
    from central.db import make_engine, session_factory, transaction
    from central.settings import load_settings
    from central.transparency import service
    from models.errors import ConfigError

    try:
        settings = with_data_dir(load_settings(settings_path), data_dir)
    except ConfigError as exc:
        raise click.ClickException("; ".join(f"{exc.origin}: {p}" for p in exc.problems)) from None
    now = datetime.now(UTC)
    try:
        span = service.requested_period(site, first, last, now.date())
    except ValueError as exc:
        # Without --to, the period ends where --from's month does: --from is then what went wrong.
        raise click.BadParameter(str(exc), param_hint="--to" if last is not None else "--from") from None
    refusal = service.publication_refusal(span, now.date())
    if refusal is not None:
        raise click.ClickException(refusal)
    engine = make_engine(db_url or settings.database_url)
    try:
        with transaction(session_factory(engine)) as session:
            CheckpointFolder(settings.checkpoint_path).check(ledger_id(session))
            watch(session, settings.checkpoint_path)
            text = service.produce(session, span, settings, _actor(), form, now)
    except (FolderOfAnotherLedger, LookupError) as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        first_line = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(f"cannot read the database: {first_line}") from None
    finally:
        engine.dispose()
    if out is None:
        click.echo(text, nl=False)
    else:
        Path(out).write_text(text, encoding="utf-8")
        click.echo(f"{form} report for {site} written to {out}", err=True)
