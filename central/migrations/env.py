"""Alembic environment: runs migrations against the URL set by central.migrate."""

from alembic import context

import central.console.tables  # noqa: F401  (console users, sessions, login attempts)
import central.tables  # noqa: F401  (registers the ingest tables on Base.metadata)
from central.db import Base, make_engine

target_metadata = Base.metadata


def run() -> None:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
