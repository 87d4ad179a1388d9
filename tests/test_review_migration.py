"""Migration 0002_review builds exactly the review, ledger, audit and retention tables the code declares,
on SQLite and PostgreSQL, and goes down and up again cleanly."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import central.audit
import central.ledger.tables
import central.retention
import central.review.tables
from central.db import Base, make_engine
from central.migrate import alembic_config
from tests.conftest import run_cli

MODULES = (central.audit, central.ledger.tables, central.retention, central.review.tables)
OURS = {
    "review_claims",
    "review_actions",
    "ledger_entries",
    "ledger_appeals",
    "points_catalogue",
    "audit_log",
    "purge_log",
}


def differences(db_url):
    engine = make_engine(db_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    return [d for d in diff if OURS & set(str(d).replace("'", " ").replace('"', " ").split())]


def test_migration_matches_the_models_and_goes_down_and_up(db_url):
    assert {table.name for module in MODULES for table in module.Base.metadata.sorted_tables} >= OURS
    result = run_cli("central", "migrate", "--db", db_url)
    assert result.returncode == 0, result.stderr
    assert differences(db_url) == []
    command.downgrade(alembic_config(db_url), "0001_ingest")
    engine = make_engine(db_url)
    assert not OURS & set(inspect(engine).get_table_names())
    engine.dispose()
    command.upgrade(alembic_config(db_url), "head")
    assert differences(db_url) == []
