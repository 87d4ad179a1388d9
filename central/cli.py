"""`curbwatch central ...`: ingest, store, review and the console."""

from __future__ import annotations

import click

from central.console.cli import serve, user
from central.review_cli import audit_export, catalogue_command, purge, verify_audit, verify_ledger
from curbwatch.cliutil import not_implemented

DB_HELP = "SQLAlchemy URL (sqlite:///FILE or postgresql+psycopg://...); default a SQLite file in ./data."


@click.group("central")
def central() -> None:
    """The central service that stores events and hosts the review console."""


@central.command("run")
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--broker", help="Broker URL, mqtt://host:port.")
@click.option("--http", "http_bind", default="127.0.0.1:8080", show_default=True, help="HOST:PORT of the console.")
def run(db_url: str | None, broker: str | None, http_bind: str) -> None:
    """Ingest events from the broker and serve the console until SIGTERM or SIGINT."""
    not_implemented("central run")


@central.command("migrate")
@click.option("--db", "db_url", help=DB_HELP)
def migrate(db_url: str | None) -> None:
    """Create or upgrade the central database schema to the newest version."""
    from central.db import default_db_url
    from central.migrate import upgrade

    upgrade(db_url or default_db_url())
    click.echo("database is at the newest schema version")


central.add_command(user)
central.add_command(serve)
central.add_command(verify_ledger)
central.add_command(verify_audit)
central.add_command(purge)
central.add_command(audit_export)
central.add_command(catalogue_command)
