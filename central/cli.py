"""`curbwatch central ...`: ingest, store, review and the console."""

from __future__ import annotations

import click

from curbwatch.cliutil import not_implemented


@click.group("central")
def central() -> None:
    """The central service that stores events and hosts the review console."""


@central.command("run")
@click.option("--db", "db_url", help="SQLAlchemy URL; default a SQLite file in the data folder.")
@click.option("--broker", help="Broker URL, mqtt://host:port.")
@click.option("--http", "http_bind", default="127.0.0.1:8080", show_default=True, help="HOST:PORT of the console.")
def run(db_url: str | None, broker: str | None, http_bind: str) -> None:
    """Ingest events from the broker and serve the console until SIGTERM or SIGINT."""
    not_implemented("central run")
