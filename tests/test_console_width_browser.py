"""Issue 24 §8: the Ledger (1406 px) and Audit log (1339 px) pages were wider than a 1280 px window: the appeal
column's input, and sha256 values that do not break. Both, and the Cameras page, fit a 1280 px window in
Chromium. Screenshots: ledger-1280, audit-1280, cameras-1280."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page

from central import audit, decisions
from central.db import transaction
from central.review import service as review
from central.review.roles import Actor
from tests.browser_support import shot
from tests.console_support import add_status, cut_evidence, make_central, seed, serve
from tests.test_console_browser import login

WIDTH = 1280


def fits(page: Page, name: str) -> None:
    page.set_viewport_size({"width": WIDTH, "height": 900})
    width = page.evaluate("document.documentElement.scrollWidth")
    shot(page, name)
    assert width <= WIDTH, f"{page.url} is {width} px wide in a {WIDTH} px window"


def test_ledger_audit_and_cameras_fit_a_1280_px_window(browser: Browser, tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    evidence = cut_evidence(frames=4)
    ids = [seed(central, evidence) for _ in range(2)]
    now = datetime.now(UTC)
    with transaction(central.factory) as session:
        alice = Actor("alice", "reviewer")
        for number, event_id in enumerate(ids):
            review.claim(session, event_id, alice, now, central.settings)
            decisions.decide(
                session, event_id, alice, "confirm", "clear evidence", "", f"case-{number:04}", now, central.settings
            )
        digest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        audit.record(session, "root", "evidence.view", f"evidence:{digest}", {"sha256": digest, "event": ids[0]})
    add_status(central, "cam-north", "online", 5, last_error="broker refused the connection: Not authorized " * 3)
    with serve(central) as base:
        bob = login(browser, base, "bob")
        bob.goto("/ledger")
        assert bob.locator("form.appeal-form").count() >= 1, "the appeal column's form is on the page"
        fits(bob, "ledger-1280")
        bob.context.close()
        audrey = login(browser, base, "audrey")
        audrey.goto("/audit")
        assert audrey.locator("td", has_text=digest).count() >= 1
        fits(audrey, "audit-1280")
        audrey.goto("/cameras")
        fits(audrey, "cameras-1280")
