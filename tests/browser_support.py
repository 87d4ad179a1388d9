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


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
