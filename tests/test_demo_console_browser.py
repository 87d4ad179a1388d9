"""`curbwatch demo` as a newcomer sees its console (issue 24 §2, §14, §11), in Chromium: the Zones page opens the
demo's clip and camera file and shows its first frame redacted by the camera's model, Settings shows the folders
in use, Cameras says the replay camera played its file to the end with its last figures, and a rerun whose event
was decided says so. Screenshots: demo-settings, demo-zones, demo-cameras."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_support import login, shot
from tests.conftest import ROOT, shared_file
from tests.test_demo import CLIP, FRAMES, RunningDemo, admin_adds_reviewer, queue_as_reviewer

pytestmark = pytest.mark.timeout(600)
CONFIG = ROOT / "examples" / "jay_intersection_crosswalk.yaml"


def setting(page: Page, name: str) -> str:
    return page.locator("tr", has=page.locator(f"td code:text-is('{name}')")).locator("td").nth(1).inner_text()


def confirm_all_as_rita(url: str) -> int:
    items = queue_as_reviewer(url, "rita-password-1")
    with httpx.Client(base_url=url, timeout=30) as client:
        token = client.post("/api/v1/session", json={"username": "rita", "password": "rita-password-1"}).json()
        for item in items:
            decided = client.post(
                f"/api/v1/infractions/{item['event_id']}/decision",
                json={"decision": "reject", "reason": "not an infraction", "version": item["version"]},
                headers={"Authorization": f"Bearer {token['token']}"},
            )
            assert decided.status_code == 200, decided.text
    return len(items)


def test_the_demos_zones_settings_and_cameras_pages_show_what_it_runs(browser: Browser, tmp_path: Path) -> None:
    video = shared_file("media", CLIP)
    data = tmp_path / "demo-data"
    args = ("--video", str(video), "--config", str(CONFIG), "--max-frames", FRAMES)
    demo = RunningDemo(data, *args)
    try:
        one_time = demo.wait_for(r"one-time password (\S+)", 180).group(1)
        demo.wait_for(r"replay done: ")
        demo.wait_for(r"review queue: \d+ pending")
        admin_adds_reviewer(demo.url, one_time)
        admin = login(browser, demo.url, "admin", "admin-password-1")

        # §2 Settings: the folders in use, not "data" and "None".
        admin.goto("/admin/config")
        assert setting(admin, "data_dir") == str(data.resolve())
        assert setting(admin, "evidence_dir") == f"{data.resolve() / 'evidence'} (default: data_dir/evidence)"
        assert any((data / "evidence").iterdir()), "the evidence is where Settings says"
        editor = setting(admin, "editor")
        assert str(video.resolve().parent) in editor and str(CONFIG.parent) in editor
        assert "yolov8n_int8.tflite" in editor
        shot(admin, "demo-settings")

        # §2 Zones: the clip's folder and the camera's file, and a first frame the camera's model redacted.
        admin.goto("/admin/zones")
        expect(admin.locator("p.error")).to_have_count(0)  # no "Media folder not found"
        expect(admin.locator("p.hint", has_text="Files live in")).to_contain_text(str(CONFIG.parent))
        expect(admin.locator("#camera-files option", has_text=CONFIG.name)).to_have_count(1)
        expect(admin.locator("#frame-status")).to_contain_text("yolov8n_int8.tflite")
        option = admin.locator("#source option", has_text=CLIP)
        with admin.expect_response(lambda r: "/admin/zones/frame" in r.url, timeout=120_000) as answer:
            admin.select_option("#source", value=option.get_attribute("value"))
        assert answer.value.status == 200, answer.value.text()
        expect(admin.locator("#stage")).to_be_visible()
        shot(admin, "demo-zones")

        # §14 Cameras: the replayed camera ended its file (no "needs attention"), with its last heartbeat's figures.
        admin.goto("/cameras")
        row = admin.locator("tr#camera-campus-ave-intersection-01")
        expect(row.locator("span.state")).to_have_text("replay ended", timeout=30_000)
        expect(row).to_contain_text(f"{CLIP} played to its end")
        expect(admin.locator("p.attention-count")).to_have_count(0)
        expect(admin.locator("p.all-well")).to_contain_text("1 replayed a recorded file to its end")
        cells = row.locator("td")
        for column in (6, 7, 8):  # fps, Outbox, Model
            assert cells.nth(column).inner_text().strip(), f"column {column} is empty"
        expect(cells.nth(8)).to_contain_text("yolov8n")
        shot(admin, "demo-cameras")
        admin.context.close()
        decided = confirm_all_as_rita(demo.url)
        assert decided >= 1
    finally:
        assert demo.interrupt() == 0, demo.output

    # §11: the rerun's events are decided; it says so instead of promising they wait in the queue.
    again = RunningDemo(data, *args)
    try:
        line = again.wait_for(r"review queue: .*", 180).group(0)
        assert "its events stay in the queue" not in again.output
        assert "its events stay in this data folder" in again.output
        assert line.startswith("review queue: 0 pending events at ") and line.endswith(f"({decided} decided)"), line
    finally:
        assert again.interrupt() == 0, again.output
