"""Transparency report periods at the end of the calendar: a period ends at the start of the day after its last, so
the last day of all (9999-12-31), and a December 9999 without --to, make no period. They are refused with a
message, by the console (400) and the command line (one error line), instead of a date overflow."""

from __future__ import annotations

from pathlib import Path

import httpx

from central.transparency import service
from tests.conftest import run_cli
from tests.console_support import make_central, seed, serve
from tests.test_console_hardening import page_session

LATEST = "a period can end on 9999-12-30 at the latest"


def test_the_console_refuses_a_period_past_the_last_day(db_url: str, tmp_path: Path) -> None:
    """Issue 23 §10: GET /reports?to=9999-12-31 answered 500."""
    central = make_central(db_url, tmp_path)
    seed(central, site="north")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        page_session(client, "audrey")
        for query in ("to=9999-12-31", "site=north&to=9999-12-31", "site=north&from=9999-12-05"):
            answer = client.get(f"/reports?{query}")
            assert answer.status_code == 400 and LATEST in answer.text, query
        download = client.get("/reports/download?site=north&from=9999-12-01&to=9999-12-31&format=json")
        assert download.status_code == 400 and LATEST in download.text
        # The last day a period can end on still makes a report (on the page: a month not over is not published).
        assert client.get("/reports?site=north&from=9999-12-01&to=9999-12-30").status_code == 200


def test_the_command_line_refuses_a_period_past_the_last_day(tmp_path: Path) -> None:
    """Issue 23 §10: `curbwatch central report --to 9999-12-31` ended in a traceback."""
    db = f"sqlite:///{tmp_path / 'central.db'}"
    for days, option in ((("--to", "9999-12-31"), "--to"), (("--from", "9999-12-05"), "--from")):
        result = run_cli("central", "report", "--site", "north", *days, "--db", db)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        [error] = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        assert error == f"Error: Invalid value for {option}: {LATEST}, not 9999-12-31"


def test_december_9999_is_a_month_like_any_other() -> None:
    """Issue 23 §10: the month of a December 9999 day was found by adding 32 days to its first."""
    assert [str(day) for day in service.month_of(service.LAST_DAY)] == ["9999-12-01", "9999-12-31"]
