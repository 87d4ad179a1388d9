"""`curbwatch bench console` end to end, briefly: a scratch database of signed events, `central serve`, reviewers and
readers, the per-route table and the database's invariants afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import PG_ADMIN_URL, run_cli


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_short_run_prints_each_route_and_every_invariant_holds(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "console.json"
    done = run_cli(
        "--log-level", "WARNING", "bench", "console", "--db", kind, "--pg", PG_ADMIN_URL, "--events", "80",
        "--reviewers", "3", "--readers", "3", "--seconds", "6", "--json-out", str(out),
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"seeded 80 signed events ({kind}) and 6 accounts")
    for route in ("GET /queue", "GET /items/{id}", "GET evidence", "POST claim", "POST decision", "all"):
        assert any(line.startswith(route) for line in lines), route
    figures = json.loads(out.read_text())
    assert figures["decisions"] > 0
    assert sum(row["errors"] for row in figures["routes"]) == 0, done.stdout
    assert set(figures["invariants"].values()) == {"ok"}, figures["invariants"]
    assert "ok     no item decided twice" in lines and "ok     audit times follow the chain" in lines
