from sqlalchemy import inspect

from central.db import Base, make_engine
from tests.conftest import run_cli


def test_migrate_builds_the_same_schema_as_the_models(db_url):
    result = run_cli("central", "migrate", "--db", db_url)
    assert result.returncode == 0, result.stderr
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    again = run_cli("central", "migrate", "--db", db_url)
    assert again.returncode == 0, again.stderr
