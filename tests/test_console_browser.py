"""The console in a real browser (Debian's Chromium through Playwright): sign in, work the queue with the
keyboard, watch the evidence clip play, confirm with a second reviewer, see the ledger change, appeal and see
it reversed; role and CSRF refusals. Screenshots of the main pages go to artifacts/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_support import login as browser_login
from tests.browser_support import shot
from tests.console_support import PASSWORDS, add_status, cut_evidence, make_central, seed, serve


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    evidence = cut_evidence()
    ids = {
        "litter": seed(central, evidence, kind="littering", camera_id="cam-east"),
        "jay": seed(central, evidence, kind="jaywalking", camera_id="cam-north"),
    }
    add_status(central, "cam-north", "online", 20, required_fps=8.0)
    add_status(central, "cam-east", "offline", 5400, last_error="camera stream lost", fps=0.0, queue_depth=12)
    with serve(central) as base:
        yield base, ids


def login(browser: Browser, base: str, name: str) -> Page:
    return browser_login(browser, base, name, PASSWORDS[name])


def show_ledger(page: Page, subject: str) -> None:
    """The ledger of `subject` through the page's filter form, which POSTs it: the reference stays out of the URL."""
    page.goto("/ledger")
    page.fill("form.filters input[name=subject]", subject)
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    assert subject not in page.url


def test_review_confirm_ledger_appeal_in_the_browser(browser: Browser, console) -> None:
    base, ids = console
    alice = login(browser, base, "alice")
    expect(alice).to_have_url(re.compile(r"/queue$"))
    expect(alice.locator("table.grid tbody tr")).to_have_count(2)
    alice.select_option("select[name=camera]", "cam-east")
    alice.click("form.filters button")
    expect(alice.locator("table.grid tbody tr")).to_have_count(1)
    alice.goto("/queue")
    shot(alice, "queue")

    alice.goto(f"/items/{ids['litter']}")
    video = alice.locator("video#clip")
    expect(video).to_be_visible()
    # The clip must really play in the browser: data loaded and the playhead moving.
    alice.evaluate("document.getElementById('clip').play()")
    alice.wait_for_function(
        "() => { const v = document.getElementById('clip'); return v.readyState >= 2 && v.currentTime > 0.3; }",
        timeout=15000,
    )
    assert alice.evaluate("document.getElementById('clip').videoWidth") == 320
    assert alice.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    expect(alice.locator(".overlay polyline").first).to_have_attribute("points", re.compile(r"0\.2,0\.35 "))
    expect(alice.locator("dl.trace")).to_contain_text("litter.left_behind")
    expect(alice.locator("table.grid")).to_contain_text("14.2")
    alice.evaluate("document.getElementById('clip').pause()")
    shot(alice, "item")

    # First confirmation by keyboard: fill the subject, leave the field, press c.
    alice.fill("#confirm-form input[name=subject_ref]", "case-1042")
    alice.locator("h1").click()
    with alice.expect_navigation():
        alice.keyboard.press("c")
    expect(alice.locator("p.notice")).to_contain_text("second reviewer")
    alice.goto(f"/items/{ids['litter']}")
    expect(alice.locator("h1 .state")).to_have_text("awaiting second")

    bob = login(browser, base, "bob")
    show_ledger(bob, "case-1042")
    expect(bob.locator(".balances")).to_contain_text("No entries")
    bob.goto(f"/items/{ids['litter']}")
    # The second review is its own step, with the first reviewer's confirmation named above its forms.
    expect(bob.locator("#decide h2").first).to_have_text("Second review")
    expect(bob.locator("#first-review")).to_contain_text("alice (first reviewer) confirmed this")
    bob.fill("#second-confirm-form input[name=subject_ref]", "case-1042")
    bob.click("#second-confirm-form button[type=submit]")
    bob.wait_for_load_state("networkidle")
    bob.goto(f"/items/{ids['litter']}")
    expect(bob.locator("h1 .state")).to_have_text("confirmed")

    show_ledger(bob, "case-1042")
    expect(bob.locator(".balance")).to_have_text("3")
    shot(bob, "ledger")
    bob.fill(".appeal-form input[name=reason]", "the bag was collected a minute later")
    bob.click(".appeal-form button")
    bob.wait_for_load_state("networkidle")
    expect(bob).to_have_url(re.compile(r"/appeals"))
    expect(bob.locator("section.panel").first).to_contain_text("open")

    sam = login(browser, base, "sam")
    sam.goto("/appeals")
    shot(sam, "appeals")
    sam.select_option("select[name=outcome]", "reverse")
    sam.select_option("select[name=reason]", "circumstances justify it")
    sam.click("section.panel form[action$='/decision'] button")
    sam.wait_for_load_state("networkidle")
    expect(sam.locator("section.panel").first).to_contain_text("reversed by entry #2")
    # The reference on the appeal opens its ledger by POST as well.
    with sam.expect_navigation():
        sam.click("section.panel form.subject-link button")
    assert sam.url.endswith("/ledger")
    expect(sam.locator(".balance")).to_have_text("0")
    expect(sam.locator("table.ledger tbody tr")).to_have_count(2)

    sam.goto("/accuracy")
    expect(sam.locator("figure.chart svg rect.bar")).to_have_count(1)
    shot(sam, "accuracy")
    sam.goto("/audit")
    expect(sam.locator("table.grid")).to_contain_text("evidence.view")
    shot(sam, "audit")
    sam.goto("/cameras")
    expect(sam.locator("tr", has_text="cam-north").locator(".state")).to_have_text("online")
    expect(sam.locator("tr", has_text="cam-east").locator(".state")).to_have_text("offline")
    expect(sam.locator("tr", has_text="cam-east")).to_contain_text("camera stream lost")
    shot(sam, "cameras")


def test_the_item_page_says_only_what_is_true_of_its_evidence_privacy(browser: Browser, tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    evidence = cut_evidence(frames=4)
    redacted, raw = seed(central, evidence), seed(central, evidence, redacted=False)
    with serve(central) as base:
        alice = login(browser, base, "alice")
        alice.goto(f"/items/{redacted}")
        expect(alice.locator("#privacy")).to_have_text(
            "Pixelated on the camera: every person its detector found (the whole person, or only the head where "
            "the camera is set to do so), what it saw moving that no detection explained, and everything in the "
            "privacy zones drawn for the camera, if it has any. Elsewhere a person the detector missed who stood "
            "still, or was only a few pixels tall far away, may remain as filmed. Number plates and everything else "
            "are as filmed."
        )
        expect(alice.locator("body")).not_to_contain_text("Faces")
        alice.goto(f"/items/{raw}")
        expect(alice.locator("#privacy")).to_have_text(
            "This event says it was NOT redacted: no one in this evidence was pixelated."
        )
        expect(alice.locator("body")).not_to_contain_text("Pixelated on the camera")


def test_the_rule_trace_puts_each_threshold_beside_what_it_judged(browser: Browser, console) -> None:
    base, ids = console
    alice = login(browser, base, "alice")
    alice.goto(f"/items/{ids['jay']}")
    rows = alice.locator("table.trace-lines tbody tr")
    expect(rows.nth(0)).to_contain_text("in the road 1.8 s, needs at least 1.0 s")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("pass")
    expect(alice.locator("table.trace-lines")).to_contain_text("min_person_confidence 0.35")
    expect(alice.locator("table.trace-lines")).to_contain_text("entered side")


def test_keyboard_reject_and_next(browser: Browser, console) -> None:
    base, _ids = console
    alice = login(browser, base, "alice")
    with alice.expect_navigation():
        alice.keyboard.press("n")
    first = alice.url
    assert "/items/" in first
    alice.select_option("#reject-form select[name=reason]", "evidence unclear")
    alice.locator("h1").click()
    with alice.expect_navigation():
        alice.keyboard.press("r")
    expect(alice.locator("p.notice")).to_contain_text("Previous item: Rejected.")
    # After a decision the console moves on to the next open item.
    assert alice.url.split("?")[0] != first
    alice.click("p.notice a")
    assert alice.url == first
    expect(alice.locator("h1 .state")).to_have_text("rejected")


def test_reviewer_cannot_reach_admin_pages(browser: Browser, console) -> None:
    base, _ids = console
    alice = login(browser, base, "alice")
    for path in ("/admin/users", "/admin/config", "/audit", "/accuracy"):
        response = alice.goto(path)
        assert response is not None and response.status == 403, path
    expect(alice.locator("h1")).to_have_text("Not allowed")
    expect(alice.locator("header nav")).not_to_contain_text("Users")
    root = login(browser, base, "root")
    expect(root).to_have_url(re.compile(r"/cameras$"))
    root.goto("/admin/users")
    expect(root.locator("table.grid")).to_contain_text("audrey")
    root.fill("form.stacked input[name=username]", "rita")
    root.select_option("form.stacked select[name=role]", "auditor")
    root.click("form.stacked button")
    # The admin chooses no password: the account gets a one-time one, shown this once.
    expect(root.locator("#one-time-password")).to_contain_text("one-time password")
    expect(root.locator("tr", has_text="rita")).to_contain_text("auditor")
    # Switching an account off signs it out at once.
    root.locator("tr", has_text="alice").locator("button").click()
    expect(root.locator("tr", has_text="alice")).to_contain_text("no")
    alice.goto("/queue")
    expect(alice).to_have_url(re.compile(r"/login"))
    shot(root, "users")
    root.goto("/admin/config")
    expect(root.locator("table.grid").first).to_contain_text("jaywalking: 2, littering: 3")
    shot(root, "config")
    # An admin runs the system but does not review.
    assert root.goto("/queue").status == 403


def test_form_without_csrf_token_is_refused(browser: Browser, console) -> None:
    base, ids = console
    alice = login(browser, base, "alice")
    alice.goto(f"/items/{ids['jay']}")
    alice.evaluate("document.querySelector('#reject-form input[name=csrf_token]').remove()")
    alice.click("#reject-form button[type=submit]")
    alice.wait_for_load_state("networkidle")
    expect(alice.locator("h1")).to_have_text("Not allowed")
    expect(alice.locator("p.error")).to_contain_text("CSRF")
    alice.goto(f"/items/{ids['jay']}")
    expect(alice.locator("h1 .state")).to_have_text("pending")


def test_every_page_has_an_icon_and_favicon_ico_is_not_a_404(browser: Browser, console) -> None:
    base, _ids = console
    page = browser.new_context(base_url=base).new_page()
    for path in ("/login", "/api/docs"):
        page.goto(path)
        href = page.locator("link[rel=icon]").get_attribute("href")
        assert href, f"{path} links no icon"
    assert page.request.get("/favicon.ico").status == 200
    for src in (href, "/favicon.ico"):
        size = page.evaluate(
            """(src) => new Promise((resolve) => {
                const image = new Image();
                image.onload = () => resolve([image.naturalWidth, image.naturalHeight]);
                image.onerror = () => resolve(null);
                image.src = src;
            })""",
            src,
        )
        assert size == [32, 32], f"{src} is not an image the browser draws"


def test_login_page_and_wrong_password(browser: Browser, console) -> None:
    base, _ids = console
    page = browser.new_context(base_url=base).new_page()
    page.goto("/queue")
    expect(page).to_have_url(re.compile(r"/login\?next=/queue"))
    shot(page, "login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not-her-password")
    page.click("button[type=submit]")
    expect(page.locator("p.error")).to_have_text("Wrong username or password.")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORDS["alice"])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/queue$"))
