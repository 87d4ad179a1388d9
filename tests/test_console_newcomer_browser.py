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
from playwright.sync_api import Browser, Locator, Page, expect

from central import decisions
from central.db import transaction
from central.ledger import service as ledger
from central.review import service as review
from central.review.roles import Actor
from central.tables import Infraction
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


TRACE = {
    "name": "jaywalk.roadway_crossing",
    "version": "1.0",
    "thresholds": {
        "min_duration_s": 1.0,
        "min_distance": 0.25,
        "min_move": 0.05,
        "min_depth": 0.02,
        "exit_grace_s": 1.5,
        "id_switch_s": 2.0,
        "id_switch_distance": 0.08,
        "min_person_confidence": 0.35,
        "unit": "frame_widths",
    },
    "measurements": {"duration_s": 1.8, "distance": 0.12, "max_move": 0.12, "max_depth": 0.09, "unit": "frame_widths"},
}
"""A whole jaywalking trace as the edge writes it: it fired by its time test (1.8 s in the road, moved 0.12)."""


def confirm(central: Central, event_id: str, subject: str, trace: dict | None = None) -> None:
    """Give the event `trace` (when given) and confirm it as alice, writing its deduction for `subject`."""
    now = datetime.now(UTC)
    with transaction(central.factory) as session:
        if trace is not None:
            row = session.get(Infraction, event_id)
            assert row is not None
            row.payload = {**row.payload, "rule": trace}
        alice = Actor("alice", "reviewer")
        review.claim(session, event_id, alice, now, central.settings)
        decisions.decide(session, event_id, alice, "confirm", "clear evidence", "", subject, now, central.settings)


def appeal(central: Central, event_id: str) -> None:
    """bob appeals the event's deduction."""
    with transaction(central.factory) as session:
        [entry] = [e for e in ledger.entries(session) if e.event_id == event_id]
        ledger.open_appeal(session, entry.seq, "bob", "the signal showed walk", datetime.now(UTC), central.settings)


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
    assert figure(audrey, "received") == "hidden"
    note = audrey.locator("p.threshold-note")
    expect(note).to_contain_text('A figure resting on fewer than 5 records reads "hidden"')
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
    assert 'A figure resting on fewer than 5 records reads "hidden"' in page
    assert "no data" in page


def test_the_rules_page_shows_every_threshold_in_words_and_which_test_fires(browser: Browser, console: Console) -> None:
    """Issue 24 §9: the thresholds only a replay can judge had blank values though the trace holds them; the unit
    read "frame_widths"; "Judge 1 reviewed events again", "Of 1 confirmed events"; and an event that still
    fires under a what-if did not say which test fired it."""
    confirm(console.central, console.ids[0], "case-0001", TRACE)
    sam = login(browser, console.base, "sam")
    sam.goto("/rules/main-st/cam-north/jaywalking")
    thresholds = sam.locator("table.thresholds")
    for name, value in (
        ("exit_grace_s", "1.5"),
        ("id_switch_s", "2.0"),
        ("id_switch_distance", "0.08"),
        ("min_person_confidence", "0.35"),
        ("max_crossing_s", "not in the trace"),
    ):
        expect(thresholds.locator("tr", has=sam.locator(f"td:text-is('{name}')")).locator("td").nth(1)).to_have_text(
            value
        )
    expect(sam.locator("p.hint").first).to_contain_text("distances in frame widths.")
    expect(sam.locator("#what-if button[type=submit]")).to_have_text("Judge 1 reviewed event again")
    sam.click("#what-if button[type=submit]")
    expect(sam.locator("#outcome p.summary")).to_contain_text("Of 1 confirmed event,")
    expect(sam.locator("#outcome p.summary")).to_contain_text("of 0 false alarms,")
    row = sam.locator("table.whatif tbody tr").first
    expect(row.locator("td.verdict")).to_have_text("fires")
    expect(row.locator("td.fired-by")).to_have_text("time test: in the road 1.8 s (needs 1 s), moved 0.12 (needs 0.05)")
    expect(sam.locator("#camera-change")).to_contain_text("re-judged on 1 reviewed event.")
    shot(sam, "rules-what-if-words")
    # Far enough apart that only the distance test passes.
    sam.fill("#what-if input[name=min_duration_s]", "5")
    sam.fill("#what-if input[name=min_distance]", "0.1")
    sam.click("#what-if button[type=submit]")
    expect(sam.locator("table.whatif tbody tr td.fired-by").first).to_have_text(
        "distance test: moved 0.12 (needs 0.1, however brief)"
    )


def ledger_of(page: Page, subject: str) -> None:
    """The ledger page filtered to one subject, through its form (the reference stays out of the URL)."""
    page.goto("/ledger")
    page.fill("form.filters input[name=subject]", subject)
    page.click("form.filters button")
    page.wait_for_load_state("networkidle")


def rgb(locator: Locator) -> tuple[int, ...]:
    text = locator.evaluate("e => getComputedStyle(e).color")
    return tuple(int(n) for n in text[text.index("(") + 1 : -1].split(","))


def visible_reasons(page: Page) -> list[str]:
    return page.eval_on_selector_all(
        "form.appeal-decision select[name=reason] optgroup:not([disabled]) option", "os => os.map(o => o.value)"
    )


def test_appeals_read_granted_or_refused_everywhere_and_the_form_starts_empty(
    browser: Browser, console: Console
) -> None:
    """Issue 24 §6: the report said "upheld (the deduction stands)", the Appeals page "Grant the appeal" and then
    "reversed"; the form started on "Grant" with a reason chosen, from one list for both outcomes."""
    settings = console.central.settings
    confirm(console.central, console.ids[0], "case-0001")
    appeal(console.central, console.ids[0])
    sam = login(browser, console.base, "sam")
    sam.goto("/appeals")
    form = sam.locator("form.appeal-decision")
    outcome, reason = form.locator("select[name=outcome]"), form.locator("select[name=reason]")
    expect(outcome).to_have_value("")
    expect(reason).to_be_disabled()
    expect(outcome.locator("option[value=reverse]")).to_have_text("Grant the appeal: the deduction is reversed")
    expect(outcome.locator("option[value=uphold]")).to_have_text("Refuse the appeal: the deduction stands")
    shot(sam, "appeal-form-empty")
    outcome.select_option("uphold")
    assert visible_reasons(sam) == settings.appeal_refuse_reasons
    reason.select_option("deduction stands: evidence clear")
    outcome.select_option("reverse")
    assert visible_reasons(sam) == settings.appeal_grant_reasons
    expect(reason).to_have_value("")  # the refusal's reason no longer fits: nothing chosen
    reason.select_option("wrong subject reference")
    form.locator("button[type=submit]").click()
    sam.wait_for_load_state("networkidle")
    panel = sam.locator("section.panel").first
    expect(panel.locator("h2 .state")).to_have_text("granted")
    expect(panel).to_contain_text("granted: the deduction reversed by entry #2")
    assert "upheld" not in sam.content() and "Grant the appeal" not in sam.content()
    shot(sam, "appeal-granted")
    sam.goto(f"/items/{console.ids[0]}")
    expect(sam.locator("ol.history")).to_contain_text("appeal granted")
    ledger_of(sam, "case-0001")
    expect(sam.locator("table.ledger a[href^='/appeals']")).to_have_text("granted")

    audrey = login(browser, console.base, "audrey")
    audrey.goto("/reports?site=main-st")
    expect(audrey.locator("tr[data-figure=appeals_granted] th")).to_have_text("appeals granted (deduction reversed)")
    expect(audrey.locator("tr[data-figure=appeals_refused] th")).to_have_text("appeals refused (deduction stands)")
    assert figure(audrey, "appeals_granted") == "hidden"  # one appeal: fewer than the settings' threshold
    # A download is a whole month that has ended (issue 23 §4c): the words, not this month's figures.
    past = "/reports/download?site=main-st&from=2020-01-01&to=2020-01-31"
    csv = audrey.request.get(f"{past}&format=csv").text()
    assert ",appeals_granted," in csv and "appeals_refused" in csv and "upheld" not in csv
    html = audrey.request.get(f"{past}&format=html").text()
    assert "granted: the deduction was reversed; refused: the deduction stands" in html and "upheld" not in html


def test_an_error_page_says_it_once_as_an_error_with_the_navigation(browser: Browser, console: Console) -> None:
    """Issue 24 §7: a 403 said it in a green success box, then "Not allowed", then the same in red; the 404 page
    read "Not Found / Not found / Not Found" without the navigation bar."""
    root = login(browser, console.base, "root")
    answer = root.goto("/queue")
    assert answer is not None and answer.status == 403
    expect(root.locator("p.notice")).to_have_count(0)
    page = root.locator("section.error-page")
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator("p.error")).to_have_text("the admin role may not see this")
    assert root.locator("main").inner_text().count("may not see this") == 1
    expect(root.locator("header.top nav a", has_text="Users")).to_be_visible()
    expect(page.locator("p.error")).to_have_count(1)  # the one message, in the error style
    red, green, _ = rgb(page.locator("p.error"))
    assert red > green + 60
    shot(root, "error-403")

    answer = root.goto("/no-such-page")
    assert answer is not None and answer.status == 404
    assert root.locator("main").inner_text().lower().count("not found") == 1
    expect(root.locator("section.error-page")).to_contain_text("There is no page at this address.")
    expect(root.locator("header.top nav a", has_text="Zones")).to_be_visible()
    expect(root).to_have_title("Not found · curbwatch console")
    shot(root, "error-404")

    # Signed out there is no navigation to show, and still one message.
    stranger = browser.new_context(base_url=console.base).new_page()
    answer = stranger.goto("/no-such-page")
    assert answer is not None and answer.status == 404
    assert stranger.locator("main").inner_text().lower().count("not found") == 1


def test_the_header_names_the_role_in_words_and_a_deduction_is_the_red_badge(
    browser: Browser, console: Console
) -> None:
    """Issue 24 §17: the header read "admin admin"; the ledger showed a reversal red and a deduction green."""
    root = login(browser, console.base, "root")
    expect(root.locator("header.top .who .user")).to_have_text("root (administrator)")
    confirm(console.central, console.ids[0], "case-0001")
    appeal(console.central, console.ids[0])
    with transaction(console.central.factory) as session:
        [open_appeal] = ledger.appeals(session)
        ledger.decide_appeal(
            session, open_appeal.id, Actor("sam", "supervisor"), False, "wrong subject reference", "",
            datetime.now(UTC), console.central.settings,
        )  # fmt: skip
    sam = login(browser, console.base, "sam")
    expect(sam.locator("header.top .who .user")).to_have_text("sam (supervisor)")
    ledger_of(sam, "case-0001")

    red, green, _ = rgb(sam.locator("table.ledger .state", has_text="deduction"))
    assert red > green + 60, "a deduction is the serious one: red"
    red, green, _ = rgb(sam.locator("table.ledger .state", has_text="reversal"))
    assert green > red + 40, "a reversal gives the points back: green"
    sam.goto("/appeals")
    red, green, _ = rgb(sam.locator("section.panel h2 .state"))
    assert green > red + 40, "a granted appeal (the deduction reversed) is green"
    shot(sam, "ledger-badges")
