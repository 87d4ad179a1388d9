"""Issue 14 §1, §4, §6 in a real browser: the console draws the zone outline, the track's whole trajectory and the
item box from a /2 message as SVG layers over the clip and every keyframe, each switched off by its checkbox; a
littering item's before/after picture sits apart with nothing drawn over it; the queue's "When" says where in a
replayed clip an event happened, and how far a live camera's clock is off. Screenshots: queue_when, item_layers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import Browser, expect

from tests.browser_support import shot
from tests.console_support import Evidence, add_status, cut_evidence, make_central, seed, serve
from tests.test_console_browser import login

AVENUE = [[0.12, 0.37], [0.45, 0.40], [0.62, 0.47], [0.78, 0.52], [0.60, 0.60], [0.28, 0.72], [0.18, 0.74]]
"""The avenue of examples/jay_intersection_crosswalk.yaml, the footage the evidence is cut from."""
V2 = "curbwatch.infraction/2"


def item_crop(keyframe: bytes) -> bytes:
    """A stand-in for the edge's before/after picture: the same spot twice, outlined, a white bar between."""
    image = cv2.imdecode(np.frombuffer(keyframe, np.uint8), cv2.IMREAD_COLOR)
    height, width = image.shape[:2]
    spot = cv2.resize(image[height // 2 : height // 2 + 40, width // 2 - 20 : width // 2 + 20], (120, 120))
    cv2.rectangle(spot, (45, 45), (75, 75), (0, 255, 255), 1)
    pair = np.hstack([spot, np.full((120, 4, 3), 255, np.uint8), spot])
    return cv2.imencode(".jpg", pair)[1].tobytes()


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    evidence = cut_evidence()
    littered = Evidence(evidence.clip, evidence.keyframes, item_crop(evidence.keyframes[-1]))
    earlier = datetime.now(UTC) - timedelta(hours=2)
    ids = {
        "replayed": seed(
            central,
            littered,
            kind="littering",
            camera_id="cam-replay",
            started_at=earlier,
            schema=V2,
            zone_polygon=AVENUE,
            item_box=[0.45, 0.55, 0.5, 0.6],
            source={"kind": "file", "clip": "vtest.avi", "offset_s": 42.7},
        ),
        "live": seed(central, evidence, camera_id="cam-live", schema=V2, zone_polygon=AVENUE, source={"kind": "live"}),
        "old": seed(central, evidence, camera_id="cam-old", schema="curbwatch.infraction/1"),
    }
    add_status(central, "cam-live", "online", 5, clock_offset_s=12.4)
    add_status(central, "cam-old", "online", 5, clock_offset_s=30.0)
    with serve(central) as base:
        yield base, ids


def test_the_queue_says_where_in_the_clip_and_how_far_the_camera_clock_is_off(browser: Browser, console) -> None:
    base, ids = console
    page = login(browser, base, "alice")
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(3)
    replayed = page.locator("tr", has=page.locator(f"a[href='/items/{ids['replayed']}']"))
    expect(replayed.locator("td.event-time a")).to_have_text("vtest.avi at 0:42")
    expect(replayed.locator("td.event-time small")).to_contain_text("replayed ")
    live = page.locator("tr", has=page.locator(f"a[href='/items/{ids['live']}']"))
    expect(live.locator("td.event-time a")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$"))
    expect(live.locator("td.event-time small")).to_have_text("camera clock 12 s ahead")
    old = page.locator("tr", has=page.locator(f"a[href='/items/{ids['old']}']"))
    expect(old.locator("td.event-time small")).to_have_count(0)  # a /1 event is shown as before
    shot(page, "queue_when")

    page.goto(f"/items/{ids['replayed']}")
    expect(page.locator("#event-time")).to_contain_text("vtest.avi at 0:42")
    page.goto(f"/items/{ids['live']}")
    expect(page.locator("#event-time")).to_contain_text("camera clock 12 s ahead")
    page.context.close()


def test_each_drawn_layer_switches_off_and_the_item_picture_stays_apart(browser: Browser, console) -> None:
    base, ids = console
    page = login(browser, base, "alice")
    page.goto(f"/items/{ids['replayed']}")
    frames = page.locator("#evidence .frame")
    expect(frames).to_have_count(3)  # the clip and two keyframes
    for layer in ("zone", "track", "item"):
        expect(page.locator(f"#evidence .frame .layer-{layer}")).to_have_count(3)
    expect(page.locator("#evidence .frame polygon").first).to_have_attribute("points", re.compile(r"^0\.12,0\.37 "))
    crop = page.locator("figure.item-crop")
    expect(crop.locator("img")).to_be_visible()
    expect(crop.locator("svg")).to_have_count(0)
    assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    expect(page.locator("#drawing-note")).to_contain_text(
        "Drawn by the console from the event's message: the outline of zone litter-corner, "
        "the track's whole trajectory (yellow, green start, red end), on each keyframe the feet of the person the "
        "event is about (a magenta ring and arrow, where the track was at that moment), the item's box."
    )
    expect(page.locator("#drawing-note")).not_to_contain_text("drawn by the camera")
    page.evaluate("document.getElementById('clip').pause()")
    shot(page, "item_layers")

    toggles = page.locator("#layers input[type=checkbox]")
    expect(toggles).to_have_count(4)
    page.uncheck("#layers input[data-layer=zone]")
    for index in range(3):
        expect(page.locator(".layer-zone").nth(index)).to_be_hidden()
        expect(page.locator(".layer-track").nth(index)).to_be_visible()
        expect(page.locator(".layer-item").nth(index)).to_be_visible()
    page.uncheck("#layers input[data-layer=track]")
    page.uncheck("#layers input[data-layer=item]")
    expect(page.locator(".layer-track").first).to_be_hidden()
    expect(page.locator(".layer-item").last).to_be_hidden()
    page.check("#layers input[data-layer=zone]")
    expect(page.locator(".layer-zone").first).to_be_visible()
    expect(page.locator(".layer-track").first).to_be_hidden()
    # A focused layer checkbox takes no letters, so the item's keyboard shortcuts still work.
    page.keyboard.press("n")
    expect(page).not_to_have_url(re.compile(f"/items/{ids['replayed']}$"))
    page.context.close()


def test_an_old_v1_event_says_its_drawings_were_made_by_the_camera(browser: Browser, console) -> None:
    base, ids = console
    page = login(browser, base, "alice")
    page.goto(f"/items/{ids['old']}")
    note = page.locator("#drawing-note")
    expect(note).to_contain_text("The zone outline, the track so far and the caption in these pictures were drawn")
    expect(note).to_contain_text("by the camera")
    expect(note).to_contain_text("The message names zone roadway-main without its outline.")
    expect(page.locator("#evidence .layer-zone")).to_have_count(0)
    # The trajectory, and the mark of the person on each keyframe (issue 24 §15): both come from the track.
    expect(page.locator("#layers input[type=checkbox]")).to_have_count(2)
    page.context.close()
