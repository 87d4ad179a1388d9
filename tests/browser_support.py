"""Debian's Chromium for the browser tests, started the way this closed network needs, and screenshots kept
as test artefacts."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright

SHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # Without these Chromium keeps dialling Google's services, which this network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def launch(playwright: Playwright, *extra_args: str) -> Browser:
    return playwright.chromium.launch(
        executable_path="/usr/bin/chromium", headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )


def login(browser: Browser, base: str, name: str, password: str, *, downloads: bool = False) -> Page:
    """A fresh browser context signed in to the console at `base` as `name`."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base, accept_downloads=downloads)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
