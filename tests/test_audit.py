"""The audit log on a real database: append-only, hash-chained, filterable, exportable as CSV, and the
CLI tools that check the ledger and export the log."""

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from central import audit, decisions
from central.db import make_engine, session_factory, transaction
from central.ledger import service as ledger
from central.review import service as review
from central.review.roles import Actor
from tests.conftest import run_cli
from tests.review_support import (
    SETTINGS,
    T0,
    add_infraction,
    factory_fixture,  # noqa: F401  (fixture "factory")
    without_append_only_guard,
)

MIN = timedelta(minutes=1)


def fill(factory):
    with transaction(factory) as s:
        audit.record(s, "alice", "login.success", None, {"address": "10.0.0.7"}, now=T0)
        audit.record(s, "alice", "evidence.view", "evidence:" + "a" * 64, {"event_id": "e-1"}, now=T0 + MIN)
        audit.record(s, "sam", "review.reassign", "infraction:e-1", {"assignee": "bob"}, now=T0 + 2 * MIN)
        audit.record(s, "admin", "config.catalogue", "catalogue:2", {"points": {"jaywalking": 1}}, now=T0 + 3 * MIN)


def test_entries_are_chained_and_filterable(factory):
    fill(factory)
    with transaction(factory) as s:
        everything = audit.entries(s)
        assert [e.seq for e in everything] == [1, 2, 3, 4]
        assert everything[0].at == T0 and everything[0].details == {"address": "10.0.0.7"}
        assert [e.action for e in audit.entries(s, actor="alice")] == ["login.success", "evidence.view"]
        assert [e.actor for e in audit.entries(s, action="review.")] == ["sam"]
        assert [e.actor for e in audit.entries(s, action="review")] == []
        assert [e.seq for e in audit.entries(s, since=T0 + 2 * MIN)] == [3, 4]
        assert [e.seq for e in audit.entries(s, until=T0 + MIN)] == [1]
        assert [e.seq for e in audit.entries(s, target="infraction:e-1")] == [3]
        assert audit.verify(s) == []


def test_export_writes_every_entry_as_csv(factory):
    fill(factory)
    out = io.StringIO()
    with transaction(factory) as s:
        assert audit.export_csv(s, out) == 4
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["action"] for r in rows] == ["login.success", "evidence.view", "review.reassign", "config.catalogue"]
    assert rows[0]["at"] == "2026-03-02T09:00:00.000000Z" and rows[0]["target"] == ""
    assert rows[3]["details"] == '{"points": {"jaywalking": 1}}'
    filtered = io.StringIO()
    with transaction(factory) as s:
        assert audit.export_csv(s, filtered, actor="sam") == 1


def test_export_keeps_spreadsheets_from_running_formulas(factory):
    with transaction(factory) as s:
        audit.record(s, "=cmd|' /c calc'!A1", "login.failure", "@sum(1)", now=T0)
        out = io.StringIO()
        audit.export_csv(s, out)
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["actor"] == "'=cmd|' /c calc'!A1" and row["target"] == "'@sum(1)"


def test_concurrent_writers_keep_one_unbroken_chain(factory):
    def write(actor):
        for n in range(8):
            with transaction(factory) as s:
                audit.record(s, actor, "evidence.view", f"evidence:{n}", now=T0 + n * MIN)

    threads = [threading.Thread(target=write, args=(f"user{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with transaction(factory) as s:
        assert [e.seq for e in audit.entries(s)] == list(range(1, 33))
        assert audit.verify(s) == []


def test_an_edited_or_removed_audit_entry_is_found(factory):
    fill(factory)
    with transaction(factory) as s:
        without_append_only_guard(s, "audit_log")
        s.execute(text("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2"))
    with transaction(factory) as s:
        assert audit.verify(s) == ["audit entry 2: contents were edited (its hash does not match its fields)"]
        s.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    with transaction(factory) as s:
        problems = audit.verify(s)
        assert "audit entry 3 missing: the chain jumps from 2 to 4" in problems


def test_audit_refuses_naive_times_and_unserialisable_details(factory):
    with transaction(factory) as s:
        with pytest.raises(ValueError, match="timezone-aware"):
            audit.record(s, "alice", "login.success", now=datetime(2026, 1, 1))
        with pytest.raises(TypeError, match="cannot hold a set"):
            audit.record(s, "alice", "login.success", details={"x": {1}}, now=T0)
        entry = audit.record(s, "alice", "login.success", details={"when": T0})
        assert entry.details == {"when": "2026-03-02T09:00:00.000000Z"}
        assert entry.at.tzinfo is not None and abs(entry.at - datetime.now(UTC)) < timedelta(minutes=5)


def deduct(factory, subject):
    with transaction(factory) as s:
        event_id = add_infraction(s)
        review.claim(s, event_id, Actor("alice", "reviewer"), T0, SETTINGS)
        decisions.decide(
            s, event_id, Actor("alice", "reviewer"), "confirm", "clear evidence", "", subject, T0, SETTINGS
        )


def test_verify_ledger_command_finds_an_edited_row_in_a_real_database(db_url, tmp_path):
    """The chain on its own, without checkpoints (tests/test_checkpoints.py adds them)."""
    migrate = run_cli("central", "migrate", "--db", db_url)
    assert migrate.returncode == 0, migrate.stderr
    engine = make_engine(db_url)
    factory = session_factory(engine)
    for subject in ("case-1", "case-2", "case-3"):
        deduct(factory, subject)
    intact = run_cli("central", "verify-ledger", "--db", db_url, cwd=tmp_path)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("ledger intact: 3 entries, head ")
    assert intact.stdout.splitlines()[1].startswith("no signed checkpoint in data/checkpoints/checkpoints.jsonl")
    noted = intact.stdout.splitlines()[0].split()[-1]
    with transaction(factory) as s:
        without_append_only_guard(s, "ledger_entries")
        s.execute(text("UPDATE ledger_entries SET points = 0 WHERE seq = 2"))
    edited = run_cli("central", "verify-ledger", "--db", db_url, cwd=tmp_path)
    assert edited.returncode == 1
    assert edited.stdout.splitlines() == ["ledger entry 2: contents were edited (its hash does not match its fields)"]
    with transaction(factory) as s:
        s.execute(text("DELETE FROM ledger_entries WHERE seq = 2"))
        assert ledger.balance(s, "case-2", "north", T0 + MIN, SETTINGS) == 0
    removed = run_cli("central", "verify-ledger", "--db", db_url, cwd=tmp_path)
    assert removed.returncode == 1
    assert removed.stdout.splitlines()[0] == "ledger entry 2 missing: the chain jumps from 1 to 3"
    with transaction(factory) as s:
        s.execute(text("DELETE FROM ledger_entries WHERE seq = 3"))
    truncated = run_cli("central", "verify-ledger", "--db", db_url, "--expect-head", noted, cwd=tmp_path)
    assert truncated.returncode == 1
    assert truncated.stdout.splitlines() == [
        f"the noted head {noted} is not in the ledger: entries were removed or replaced"
    ]
    without_noted_head = run_cli("central", "verify-ledger", "--db", db_url, cwd=tmp_path)
    assert without_noted_head.returncode == 0 and "ledger intact: 1 entry," in without_noted_head.stdout
    engine.dispose()


def test_audit_export_command_writes_csv_and_is_itself_audited(db_url, tmp_path):
    assert run_cli("central", "migrate", "--db", db_url).returncode == 0
    engine = make_engine(db_url)
    fill(session_factory(engine))
    out = tmp_path / "audit.csv"
    export = ("central", "audit-export", "--db", db_url, "--out", str(out), "--action", "review.")
    result = run_cli(*export, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"1 audit entries written to {out}"
    rows = list(csv.DictReader(out.open()))
    assert [(r["actor"], r["action"]) for r in rows] == [("sam", "review.reassign")]
    with transaction(session_factory(engine)) as s:
        last = audit.entries(s)[-1]
        assert last.action == "audit.export" and last.details["rows"] == 1 and last.actor.startswith("cli")
    verified = run_cli("central", "verify-audit", "--db", db_url, cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout
    # The export's own entry was signed into ./data/checkpoints as its transaction committed.
    assert verified.stdout.splitlines()[0] == f"audit log intact: 5 entries, head {last.hash}"
    assert verified.stdout.splitlines()[1].endswith("signs entry 5 of 5")
    engine.dispose()


def test_commands_on_an_unmigrated_database_fail_in_one_line(tmp_path):
    result = run_cli("central", "verify-ledger", "--db", f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "no such table" in result.stderr and "curbwatch central migrate" in result.stderr
    bad_since = run_cli("central", "audit-export", "--out", str(tmp_path / "x.csv"), "--since", "yesterday")
    assert bad_since.returncode == 2 and "not an ISO 8601 time" in bad_since.stderr
