"""Alembic, driven from code: the migrations ship inside the package, so no alembic.ini is needed."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, make_url

from central.db import make_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(db_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return config


def upgrade(db_url: str, revision: str = "head") -> None:
    """Bring the database at `db_url` to `revision` (creating it when empty)."""
    command.upgrade(alembic_config(db_url), revision)


def migrate_new_sqlite(db_url: str) -> bool:
    """Migrate a SQLite database without a single table (a new file), as a first `central run` needs; returns
    whether it did. PostgreSQL and any database that already holds tables are left to `central migrate`, run
    on purpose by whoever looks after them."""
    if make_url(db_url).get_backend_name() != "sqlite":
        return False
    engine = make_engine(db_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        return False
    log.info("%s is a new, empty SQLite database: migrating it to the newest schema first", db_url)
    upgrade(db_url)
    return True
