"""What a newcomer tripped over on the console (issue 24, second round), checked in Chromium on the real console
with seeded events: the report's default days and its words for nothing, the appeal words and form, the error
pages, the Rules page's values and counts, the header and the ledger's badges. Screenshots go to
artifacts/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_support import login as browser_login
from tests.browser_support import shot
from tests.console_support import PASSWORDS, Central, cut_evidence, make_central, seed, serve


@dataclass
class Console:
    base: str
    central: Central
    ids: list[str]


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    evidence = cut_evidence(frames=4)
    ids = [seed(central, evidence, kind="jaywalking", camera_id="cam-north") for _ in range(2)]
    with serve(central) as base:
        yield Console(base, central, ids)


def login(browser: Browser, base: str, name: str) -> Page:
    return browser_login(browser, base, name, PASSWORDS[name])


def figure(page: Page, key: str, column: int = 0) -> str:
    return page.locator(f"table.report-figures tr[data-figure='{key}'] td").nth(column).inner_text()


def test_the_first_report_holds_this_months_events_and_says_what_is_empty_or_hidden(
    browser: Browser, console: Console
) -> None:
    """Issue 24 §5: the form defaulted to last month, so the events just received were in no first report; an
    empty catalogue read "Points catalogue: ." and an empty median was a blank cell; "< 5" went unexplained."""
    today = datetime.now(UTC).date()
    audrey = login(browser, console.base, "audrey")
    audrey.goto("/reports")
    expect(audrey.locator("input[name=from]")).to_have_value(today.replace(day=1).isoformat())
    expect(audrey.locator("input[name=to]")).to_have_value(today.isoformat())
    audrey.click("form.filters button")
    audrey.wait_for_load_state("networkidle")
    # The two events received minutes ago are in it, hidden as fewer than the threshold, and the page says why.
    assert figure(audrey, "received") == "< 5"
    note = audrey.locator("p.threshold-note")
    expect(note).to_contain_text('A count under 5 shows as "< 5"')
    expect(note).to_contain_text("no one can be picked out")
    # No decision yet: the median says so instead of a blank cell.
    assert figure(audrey, "median_decision_s") == "no data"
    shot(audrey, "reports-month-to-date")

    # Long before the catalogue's first version: the catalogue line says "none", not "Points catalogue: .".
    audrey.goto("/reports?site=main-st&from=2020-01-01&to=2020-01-31")
    expect(audrey.locator("section.panel p").first).to_contain_text("Points catalogue: none.")
    download = audrey.request.get("/reports/download?site=main-st&from=2020-01-01&to=2020-01-31&format=html")
    page = download.text()
    assert '<td colspan="3">none</td>' in page
    assert 'A count under 5 shows as "&lt; 5"' in page
    assert "no data" in page
