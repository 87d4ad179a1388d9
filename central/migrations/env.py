"""Alembic environment: runs migrations against the URL set by central.migrate."""

from alembic import context

import central.audit
import central.console.tables
import central.ledger.tables
import central.ledger_identity
import central.retention
import central.review.tables
import central.tables
import central.user_accounts
from central.db import Base, make_engine

TABLE_MODULES = (
    central.tables,  # ingest: infractions, evidence, quarantine, camera status
    central.user_accounts,  # console users
    central.console.tables,  # console sessions, login attempts
    central.review.tables,  # claims, review history
    central.ledger.tables,  # ledger entries, appeals, points catalogue
    central.ledger_identity,  # the ledger's id
    central.audit,  # audit log
    central.retention,  # purge log
)
"""Imported so that every table is on Base.metadata when Alembic compares it with the database."""

target_metadata = Base.metadata


def run() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no sqlalchemy.url: run migrations through central.migrate, which sets it")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
