"""`curbwatch central verify-ledger | verify-audit | purge | audit-export`: the ledger, retention and audit
commands an operator or auditor runs from a shell."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from curbwatch.cliutil import fail, report_config_error

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DB_HELP = "SQLAlchemy URL (sqlite:///FILE or postgresql+psycopg://...); default from --config, else ./data."
CONFIG_HELP = "Central settings (YAML); defaults when omitted."
T = TypeVar("T")


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _in_transaction(config: str | None, db_url: str | None, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction on the chosen database; a database that cannot be used is one error line."""
    from sqlalchemy.exc import SQLAlchemyError

    from central.db import make_engine, session_factory, transaction
    from central.settings import load_settings
    from models.errors import ConfigError

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        report_config_error(exc)
    engine = make_engine(db_url or settings.database_url)
    try:
        with transaction(session_factory(engine)) as session:
            return work(session)
    except SQLAlchemyError as exc:
        first = str(exc.orig if getattr(exc, "orig", None) else exc).strip().splitlines()[0]
        fail(f"database {engine.url.render_as_string(hide_password=True)}: {first} (run `curbwatch central migrate`?)")
    finally:
        engine.dispose()


@click.command("verify-ledger")
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
def verify_ledger(db_url: str | None, config: str | None) -> None:
    """Check the ledger's hash chain. Exit 0 when intact (prints the entry count and head hash, worth
    noting elsewhere); exit 1 with one line per edited, removed or reordered entry."""
    from central.ledger.service import head, verify_chain

    problems, (count, last_hash) = _in_transaction(config, db_url, lambda s: (verify_chain(s), head(s)))
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo(f"ledger intact: {count} entries, head {last_hash}")


@click.command("verify-audit")
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
def verify_audit(db_url: str | None, config: str | None) -> None:
    """Check the audit log's hash chain: exit 0 when intact, 1 with one line per problem."""
    from central.audit import verify

    problems = _in_transaction(config, db_url, verify)
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo("audit log intact")


@click.command("purge")
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--evidence-dir", type=click.Path(file_okay=False), help="Evidence folder; default from the settings.")
@click.option("--dry-run", is_flag=True, help="List what would be purged and change nothing.")
def purge(db_url: str | None, config: str | None, evidence_dir: str | None, dry_run: bool) -> None:
    """Purge evidence past its retention: rejected events after retention_rejected_days, confirmed ones
    once the appeal window has closed. Each purge goes to the purge log and the audit log."""
    from central.evidence_store import EvidenceStore
    from central.retention import purge as run_purge
    from central.settings import load_settings
    from models.errors import ConfigError

    try:
        settings = load_settings(config)
    except ConfigError as exc:
        report_config_error(exc)
    store = EvidenceStore(Path(evidence_dir) if evidence_dir else settings.evidence_path)
    now = datetime.now(UTC)
    items = _in_transaction(config, db_url, lambda s: run_purge(s, store, settings, now, dry_run))
    verb = "would purge" if dry_run else "purged"
    for item in items:
        click.echo(f"{verb} {item.sha256} ({item.size} bytes) of {','.join(item.event_ids)}: {item.reason}")
    click.echo(f"{len(items)} evidence files {verb}, {sum(i.size for i in items)} bytes")


def _parse_since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time such as 2026-01-31T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command("audit-export")
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--config", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="CSV file to write.")
@click.option("--since", callback=_parse_since, help="Only entries at or after this ISO 8601 time (UTC if no offset).")
@click.option("--actor", help="Only entries by this actor.")
@click.option("--action", help="Only this action, or a prefix ending in '.' such as 'review.'.")
def audit_export(
    db_url: str | None, config: str | None, out: str, since: datetime | None, actor: str | None, action: str | None
) -> None:
    """Write the audit log (filtered) as CSV; the export itself is audited."""
    from central import audit

    def export(session: Session) -> int:
        with open(out, "w", newline="", encoding="utf-8") as handle:
            count = audit.export_csv(session, handle, since=since, actor=actor, action=action)
        filters = {"since": since, "actor": actor, "action": action}
        audit.record(
            session, _cli_actor(), "audit.export", out, {k: v for k, v in filters.items() if v} | {"rows": count}
        )
        return count

    try:
        count = _in_transaction(config, db_url, export)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"{count} audit entries written to {out}")


COMMANDS = (verify_ledger, verify_audit, purge, audit_export)
