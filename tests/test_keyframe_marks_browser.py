"""Issue 24 §15: keyframes open large, and each keyframe marks the person the event is about (where the track in
the stored message had their feet at that keyframe's time), on the item page and in a subject's record, drawn
over the picture by the page while the stored evidence stays as the camera sent it. Checked in Chromium.
Screenshots: keyframe-marks, keyframe-large, subject-record-marks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, expect

from central import decisions
from central.db import transaction
from central.review import service as review
from central.review.roles import Actor
from central.subject_mark import keyframe_times, position_at
from tests.browser_support import SHOTS, shot
from tests.console_support import Central, Evidence, cut_evidence, make_central, seed, serve
from tests.test_console_browser import login

SUBJECT = "case-0042"


@dataclass
class Console:
    base: str
    central: Central
    event_id: str
    evidence: Evidence


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    evidence = cut_evidence(frames=6)
    # console_support's message: 2.4 s, the track from (0.2, 0.35) at 0 s to (0.76, 0.59) at 2.4 s; two keyframes,
    # the first and the last frame.
    event_id = seed(central, evidence)
    with serve(central) as base:
        yield Console(base, central, event_id, evidence)


def mark_centre(picture: Locator) -> tuple[float, float]:
    """Where the mark's ring is, as a share of the picture it is drawn over."""
    frame = picture.bounding_box()
    ring = picture.locator("svg.subject-mark circle").last.bounding_box()
    assert frame is not None and ring is not None
    return (
        (ring["x"] + ring["width"] / 2 - frame["x"]) / frame["width"],
        (ring["y"] + ring["height"] / 2 - frame["y"]) / frame["height"],
    )


def test_each_keyframe_marks_the_events_person_and_opens_large(browser: Browser, console: Console) -> None:
    page = login(browser, console.base, "alice")
    page.goto(f"/items/{console.event_id}")
    frames = page.locator("#evidence .thumbs a.open-large")
    expect(frames).to_have_count(2)
    for frame, (x, y) in zip(frames.all(), ((0.2, 0.35), (0.76, 0.59)), strict=True):
        got = mark_centre(frame)
        assert abs(got[0] - x) < 0.02 and abs(got[1] - y) < 0.03, (got, (x, y))
    expect(page.locator("#layers")).to_contain_text("whom the event is about")
    expect(page.locator("#drawing-note")).to_contain_text("the feet of the person the event is about (a magenta ring")
    # The evidence served is the stored image, byte for byte: the mark is the page's, not burned in.
    served = page.request.get(frames.first.get_attribute("href") or "")
    assert hashlib.sha256(served.body()).hexdigest() == hashlib.sha256(console.evidence.keyframes[0]).hexdigest()
    shot(page, "keyframe-marks")

    frames.last.click()
    dialog = page.locator("dialog#large-frame")
    expect(dialog).to_be_visible()
    large = dialog.locator(".frame")
    box = large.bounding_box()
    assert box is not None and box["width"] > 900, f"the keyframe opens large, not {box}"
    got = mark_centre(large)
    assert abs(got[0] - 0.76) < 0.01 and abs(got[1] - 0.59) < 0.015, got
    expect(large.locator("svg.overlay .layer-track")).to_have_count(1)  # the other layers come along
    page.screenshot(path=str(SHOTS / "keyframe-large.png"))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    page.uncheck("#layers input[data-layer=subject]")
    expect(frames.first.locator("svg.subject-mark .layer-subject")).to_be_hidden()


def test_a_subjects_record_marks_them_on_each_keyframe(browser: Browser, console: Console, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with transaction(console.central.factory) as session:
        alice = Actor("alice", "reviewer")
        review.claim(session, console.event_id, alice, now, console.central.settings)
        decisions.decide(
            session, console.event_id, alice, "confirm", "clear evidence", "", SUBJECT, now, console.central.settings
        )
    audrey = login(browser, console.base, "audrey")
    audrey.goto("/subject-report")
    csrf = audrey.locator("#subject-report input[name=csrf_token]").input_value()
    made = audrey.request.post(
        "/subject-report/download", form={"subject": SUBJECT, "site": "main-st", "csrf_token": csrf}
    )
    assert made.ok
    path = tmp_path / "record.html"
    path.write_bytes(made.body())
    record = browser.new_context(viewport={"width": 1000, "height": 900}).new_page()
    record.goto(path.as_uri())
    frames = record.locator(".frames label.frame")
    expect(frames).to_have_count(2)
    for frame, (x, y) in zip(frames.all(), ((0.2, 0.35), (0.76, 0.59)), strict=True):
        got = mark_centre(frame)
        assert abs(got[0] - x) < 0.02 and abs(got[1] - y) < 0.03, (got, (x, y))
    expect(record.locator("body")).to_contain_text("A magenta ring with an arrow marks where the person")
    small = frames.first.bounding_box()
    frames.first.click()
    large = frames.first.bounding_box()
    assert small is not None and large is not None and large["width"] > 1.8 * small["width"]
    shot(record, "subject-record-marks")


def test_keyframe_times_follow_how_the_edge_picks_them() -> None:
    # Spread from start to end, as a jaywalking rule's first, middle and last sample (or the edge's even spread).
    assert keyframe_times({"type": "jaywalking"}, 3.0, 3) == [0.0, 1.5, 3.0]
    assert keyframe_times({"type": "jaywalking"}, 3.0, 1) == [0.0]
    # A littering event's: the drop, when the owner went away, the end.
    littering = {"type": "littering", "rule": {"measurements": {"owner_away_s": 8.0}}}
    assert keyframe_times(littering, 20.0, 3) == [0.0, 12.0, 20.0]
    track = [(0.0, 0.1, 0.5), (2.0, 0.3, 0.7)]
    assert position_at(track, 1.0) == (0.2, 0.6)
    assert position_at(track, 2.4) == (0.3, 0.7)  # a sample interval past the end: still the last place
    assert position_at(track, 12.0) is None  # the owner had left the picture: no mark
    assert position_at([], 0.0) is None
