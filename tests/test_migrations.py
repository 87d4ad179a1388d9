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


def test_usernames_that_clash_ignoring_case_keep_the_oldest_and_switch_off_the_rest(db_url):
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from central.migrate import upgrade

    upgrade(db_url, "0004_password_change")
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for name in ("alice", "Alice", "ALICE", "bob"):
            conn.execute(
                text(
                    "INSERT INTO console_users (username, password_hash, role, active) VALUES (:n, 'h', 'reviewer', :a)"
                ),
                {"n": name, "a": True},
            )
        conn.execute(
            text(
                "INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
                "SELECT 'tok-' || username, id, 'c', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM console_users"
            )
        )
    upgrade(db_url)
    with engine.begin() as conn:
        rows = conn.execute(text("SELECT id, username, username_key, active FROM console_users ORDER BY id")).all()
        signed_in = {row[0] for row in conn.execute(text("SELECT user_id FROM console_sessions"))}
    (a, _, key_a, on_a), (b, _, key_b, on_b), (c, _, key_c, on_c), (d, _, key_d, on_d) = rows
    assert (key_a, key_b, key_c, key_d) == ("alice", f"alice#{b}", f"alice#{c}", "bob")
    assert [bool(on_a), bool(on_b), bool(on_c), bool(on_d)] == [True, False, False, True]
    # The switched-off accounts are signed out (on SQLite rebuilding the table signs everyone out).
    assert signed_in == ({a, d} if db_url.startswith("postgresql") else set())
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO console_users (username, username_key, password_hash, role, active) "
                "VALUES ('aLiCe', 'alice', 'h', 'reviewer', true)"
            )
        )
    engine.dispose()
