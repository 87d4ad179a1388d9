"""The console's zone editor (admin role) with the real detector on real footage: a zone drawn with mouse clicks
in Debian's Chromium is saved as a camera file the edge's models accept and is where it was drawn after a
reload; invalid drafts come back one problem a line; other roles, stale CSRF tokens, path traversal and unsafe
file names are refused; a test replay of the first seconds returns tracks and refuses a second one meanwhile."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from central import audit
from central.console.zone_editor.confine import confinement_problems
from central.db import transaction
from central.settings import CentralSettings, load_settings
from models.config.camera import load_camera_config
from models.errors import ConfigError
from models.rule_catalogue import RULES
from tests.browser_support import shot
from tests.conftest import shared_file
from tests.console_support import FOOTAGE, PASSWORDS, Central, make_central, serve
from tests.test_console_browser import login

SOURCE = f"file:0:{FOOTAGE}"
CLICKS = [(0.18, 0.42), (0.62, 0.40), (0.70, 0.66), (0.22, 0.71)]
"""Where the zone's corners are clicked, as fractions of the frame shown."""


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[tuple[str, Central, Path]]:
    """One console for the module (the detector loads once per console), the shared clips as media folder 0
    and a scratch media folder 1 holding a link that leads out of it."""
    tmp = tmp_path_factory.mktemp("zones")
    scratch = tmp / "scratch-media"
    scratch.mkdir()
    (scratch / "escape.mp4").symlink_to(shared_file("media", FOOTAGE))
    (scratch / "notes.txt").write_text("not a video")
    central = make_central(f"sqlite:///{tmp / 'central.db'}", tmp)
    central.settings = CentralSettings(
        data_dir=tmp,
        editor={
            "media_dirs": [str(shared_file("media", FOOTAGE).parent), str(scratch)],
            "streams": [{"name": "gate-cam", "url": "rtsp://viewer:s3cret@127.0.0.1:9/stream"}],
            "detector": {"model": str(model_path)},
            "max_test_seconds": 5,
        },
    )
    with serve(central) as base:
        yield base, central, tmp / "cameras"


def bearer(base: str, name: str) -> dict[str, str]:
    token = httpx.post(f"{base}/api/v1/session", json={"username": name, "password": PASSWORDS[name]}).json()["token"]
    return {"Authorization": f"Bearer {token}"}


def draft(camera_id: str, polygon: list[list[float]], **extra: object) -> dict[str, object]:
    return {
        "camera": {"id": camera_id, "site": "main-st"},
        "zones": [{"name": "road", "kind": "roadway", "polygon": polygon}],
        **extra,
    }


ROAD = [[0.12, 0.37], [0.78, 0.52], [0.60, 0.60], [0.18, 0.74]]


def open_editor(page: Page) -> dict[str, float]:
    """Pick the crosswalk clip; returns the frame's box on screen once the redacted frame is shown."""
    page.goto("/admin/zones")
    page.select_option("#source", SOURCE)
    expect(page.locator("#stage")).to_be_visible(timeout=60_000)
    expect(page.locator("#frame-status")).to_contain_text("every person the detector found pixelated")
    box = page.locator("#zone-canvas").bounding_box()
    assert box is not None
    return box


def on_screen(box: dict[str, float], fx: float, fy: float) -> tuple[float, float]:
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def handle_centres(page: Page, zone: int) -> list[tuple[float, float]]:
    centres = []
    for handle in page.locator(f"#handles-layer circle.handle[data-zone='{zone}']").all():
        b = handle.bounding_box()
        assert b is not None
        centres.append((b["x"] + b["width"] / 2, b["y"] + b["height"] / 2))
    return centres


def test_a_zone_drawn_with_the_mouse_is_saved_valid_and_drawn_where_it_was_after_a_reload(editor, browser) -> None:
    base, central, cameras = editor
    page = login(browser, base, "root")
    expect(page.locator("header nav a", has_text="Zones")).to_be_visible()
    box = open_editor(page)

    page.select_option("#new-kind", "sidewalk")
    points = [on_screen(box, fx, fy) for fx, fy in CLICKS]
    for x, y in points[:-1]:
        page.mouse.click(x, y)
    page.mouse.dblclick(*points[-1])  # the last point, and the polygon closes
    name = page.locator("#zone-list input.zone-name").first
    expect(name).to_be_focused()
    name.fill("avenue")
    kind = page.locator("#zone-list select.zone-kind").first
    assert kind.input_value() == "sidewalk"
    kind.select_option("roadway")
    page.fill("#camera-id", "cam-north")
    page.fill("#camera-site", "main-st")
    page.fill("#camera-name", "North corner")
    page.fill("#file-name", "north-corner")
    page.uncheck("#rule-littering")
    page.click("#save")
    expect(page.locator("#save-status .notice")).to_contain_text("north-corner.yaml")
    expect(page.locator("#problems li")).to_have_count(0)

    page.reload()
    expect(page.locator("#zones-layer polygon[data-name='avenue']")).to_be_visible(timeout=30_000)
    box = page.locator("#zone-canvas").bounding_box()
    assert box is not None
    drawn = handle_centres(page, 0)
    expected = [on_screen(box, fx, fy) for fx, fy in CLICKS]
    assert len(drawn) == 4
    for (x, y), (ex, ey) in zip(drawn, expected, strict=True):
        assert abs(x - ex) <= 1.5 and abs(y - ey) <= 1.5, (drawn, expected)
    assert page.locator("#zone-list select.zone-kind").first.input_value() == "roadway"

    config = load_camera_config(cameras / "north-corner.yaml")
    assert (config.camera.id, config.camera.site, config.camera.name) == ("cam-north", "main-st", "North corner")
    assert config.source.uri == f"{shared_file('media', FOOTAGE).parent.as_posix()}/{FOOTAGE}"
    assert not config.rules.littering.enabled and config.rules.jaywalking.enabled
    [zone] = config.zones
    assert (zone.name, zone.kind) == ("avenue", "roadway")
    for (x, y), (fx, fy) in zip(zone.polygon, CLICKS, strict=True):
        assert abs(x - fx) < 0.004 and abs(y - fy) < 0.004, (zone.polygon, CLICKS)

    # Edit a point: drag the third corner elsewhere and save over the loaded file.
    start = drawn[2]
    target = on_screen(box, 0.80, 0.75)
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*target, steps=6)
    page.mouse.up()
    page.click("#save")
    expect(page.locator("#save-status .notice")).to_contain_text("north-corner.yaml")
    moved = load_camera_config(cameras / "north-corner.yaml").zones[0].polygon
    assert abs(moved[2][0] - 0.80) < 0.004 and abs(moved[2][1] - 0.75) < 0.004, moved
    assert len(moved) == 4

    # Test the draft on the first seconds: the tracks' foot paths are drawn over the frame.
    page.fill("#test-seconds", "2")
    page.click("#run-test")
    expect(page.locator("#test-status")).to_contain_text("tracks drawn", timeout=120_000)
    assert page.locator("#tracks-layer polyline.track.person").count() >= 1
    shot(page, "zone_editor")

    with transaction(central.factory) as session:
        saves = audit.entries(session, action="zones.save", target="north-corner.yaml")
        tests = audit.entries(session, action="zones.test", target="cam-north")
    assert [entry.details["replaced"] for entry in saves] == [False, True] and saves[0].actor == "root"
    assert saves[0].details["zones"] == ["avenue (roadway)"] and len(tests) == 1


def test_an_invalid_draft_shows_each_problem_beside_the_form(editor, browser) -> None:
    base, _central, cameras = editor
    page = login(browser, base, "root")
    box = open_editor(page)
    for shape in ([(0.1, 0.1), (0.3, 0.1), (0.3, 0.3)], [(0.5, 0.5), (0.7, 0.5), (0.7, 0.7)]):
        for x, y in (on_screen(box, fx, fy) for fx, fy in shape):
            page.mouse.click(x, y)
        page.click("#close-zone")
    for row in page.locator("#zone-list input.zone-name").all():
        row.fill("kerb")
    page.fill("#camera-id", "cam/1")
    page.fill("#camera-site", "main-st")
    page.click("#save")
    problems = page.locator("#problems li")
    expect(problems.first).to_be_visible()
    lines = problems.all_inner_texts()
    assert lines[0].startswith("file: file name must be 1-64 letters") and lines[1].startswith(
        "camera.id: must match pattern"
    ), lines
    page.fill("#camera-id", "cam-1")
    page.fill("#file-name", "cam-1")
    page.click("#save")
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text("(top level): zone name 'kerb' is used twice; zone names must be unique")
    assert not (cameras / "cam-1.yaml").exists()

    # Shapes the mouse cannot make are refused just the same when posted.
    headers = bearer(base, "root")
    bad = draft("cam-2", [[0.1, 0.1], [0.5, 0.5]])
    bad["zones"].append({"name": "bins", "kind": "lawn", "polygon": [[0, 0], [1, 1], [1, 0], [0, 1]]})
    answer = httpx.post(
        f"{base}/admin/zones/save", json={"file": "cam-2", "source": SOURCE, "config": bad}, headers=headers
    )
    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        "zones[0].polygon: has 2 items, needs at least 3",
        "zones[1].kind: 'lawn' is not allowed; allowed: "
        "'roadway', 'crosswalk', 'sidewalk', 'litter_watch', 'ignore' or 'privacy'",
        "zones[1].polygon: polygon is self-intersecting: edge 0 crosses edge 2 (got [[0, 0], [1, 1], [1, 0], [0, 1]])",
    ]
    assert not (cameras / "cam-2.yaml").exists()


def test_only_admins_with_a_fresh_csrf_token_reach_the_editor(editor) -> None:
    base, _central, cameras = editor
    alice = bearer(base, "alice")
    for method, path in (
        ("GET", "/admin/zones"),
        ("GET", f"/admin/zones/frame?source={SOURCE}"),
        ("GET", "/admin/zones/test"),
    ):
        assert httpx.request(method, base + path, headers=alice).status_code == 403, path
    body = {"file": "x1", "source": SOURCE, "config": draft("x1", ROAD)}
    assert httpx.post(f"{base}/admin/zones/save", json=body, headers=alice).status_code == 403
    assert httpx.post(f"{base}/admin/zones/test", json={**body, "seconds": 1}, headers=alice).status_code == 403
    with httpx.Client(base_url=base, cookies={"cw_login_csrf": "x"}) as client:
        client.post("/login", data={"username": "root", "password": PASSWORDS["root"], "csrf_token": "x"})
        assert client.get("/admin/zones").status_code == 200
        refused = client.post("/admin/zones/save", json=body, headers={"X-CSRF-Token": "stale"})
        assert refused.status_code == 403 and "CSRF" in refused.text
    assert not (cameras / "x1.yaml").exists()


@pytest.mark.parametrize(
    "key",
    [
        "file:0:../../../etc/passwd",
        "file:0:/etc/passwd",
        "file:0:..%2F..%2Fetc%2Fpasswd",
        f"file:0:../{Path(shared_file('media', FOOTAGE).parent).name}/../../../etc/hostname",
        "file:1:escape.mp4",
        "file:1:notes.txt",
        "file:0:SHA256SUMS",
        "file:7:clip.mp4",
        "file:-1:clip.mp4",
        "stream:other-cam",
        "/etc/passwd",
    ],
)
def test_sources_outside_the_media_folders_are_refused(editor, key: str) -> None:
    base, _central, _cameras = editor
    headers = bearer(base, "root")
    answer = httpx.get(f"{base}/admin/zones/frame", params={"source": key}, headers=headers)
    assert answer.status_code == 404 and "no such video file" in answer.json()["detail"]
    started = httpx.post(
        f"{base}/admin/zones/test", json={"source": key, "seconds": 1, "config": draft("t1", ROAD)}, headers=headers
    )
    assert started.status_code == 422 and started.json()["problems"][0].startswith("source: no such video file")


def test_the_page_lists_only_videos_inside_the_folders_and_hides_stream_urls(editor) -> None:
    base, _central, _cameras = editor
    page = httpx.get(f"{base}/admin/zones", headers=bearer(base, "root")).text
    assert f'value="{SOURCE}"' in page and 'value="stream:gate-cam"' in page
    assert "escape.mp4" not in page and "notes.txt" not in page and "SHA256SUMS" not in page
    assert "s3cret" not in page and "rtsp://" not in page
    settings = httpx.get(f"{base}/admin/config", headers=bearer(base, "root")).text
    assert "gate-cam" in settings and "s3cret" not in settings


def test_each_rules_switch_starts_as_a_camera_file_that_does_not_name_it_runs(editor) -> None:
    base, _central, _cameras = editor
    page = httpx.get(f"{base}/admin/zones", headers=bearer(base, "root")).text
    for entry in RULES:
        assert (f'id="rule-{entry.name}" checked' in page) == entry.on_by_default, entry.name


@pytest.mark.parametrize("name", ["../../evil", "evil.yaml", "a/b", ".hidden", "x" * 65, ""])
def test_unsafe_camera_file_names_are_refused(editor, name: str) -> None:
    base, _central, cameras = editor
    headers = bearer(base, "root")
    answer = httpx.post(
        f"{base}/admin/zones/save",
        json={"file": name, "source": SOURCE, "config": draft("cam-9", ROAD)},
        headers=headers,
    )
    assert answer.status_code == 422 and answer.json()["problems"][0].startswith("file:"), answer.text
    assert httpx.get(f"{base}/admin/zones/cameras/..%2F..%2Fcentral.db", headers=headers).status_code in (404, 422)
    assert sorted(p.name for p in cameras.parent.rglob("*.yaml")) == sorted(p.name for p in cameras.glob("*.yaml"))


def test_a_test_replay_returns_tracks_and_runs_one_at_a_time(editor) -> None:
    base, central, _cameras = editor
    headers = bearer(base, "root")
    body = {"source": SOURCE, "seconds": 2, "config": draft("cam-test", ROAD)}
    too_long = httpx.post(f"{base}/admin/zones/test", json={**body, "seconds": 6}, headers=headers)
    assert too_long.status_code == 422 and too_long.json()["problems"] == [
        "seconds: at most 5 (editor.max_test_seconds in the central settings)"
    ]
    started = httpx.post(f"{base}/admin/zones/test", json=body, headers=headers)
    assert started.status_code == 202 and started.json()["state"] == "running"
    second = httpx.post(f"{base}/admin/zones/test", json=body, headers=headers)
    assert second.status_code == 409 and "still running" in second.json()["detail"]
    deadline = time.monotonic() + 120
    while (status := httpx.get(f"{base}/admin/zones/test", headers=headers).json())["state"] == "running":
        assert time.monotonic() < deadline, status
        time.sleep(0.3)
    assert status["state"] == "done", status
    assert status["frames_done"] == 23  # 2 s of an 11.03 frames/s clip
    # Track ids start again at 1: the console's one model forgets the tracks of earlier frames and replays.
    assert min(track["id"] for track in status["tracks"]) == 1
    people = [track for track in status["tracks"] if track["cls"] == "person"]
    assert len(people) >= 3, status["tracks"]
    for track in people:
        assert all(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 for x, y in track["points"])
    for event in status["events"]:
        assert event["zone"] == "road" and event["type"] == "jaywalking" and event["at"] is not None
    with transaction(central.factory) as session:
        assert audit.entries(session, action="zones.test", target="cam-test")


def test_editor_settings_defaults_and_refusals(tmp_path: Path) -> None:
    settings = CentralSettings(data_dir=tmp_path)
    assert settings.editor.media_paths(tmp_path) == [tmp_path / "media"]
    assert settings.editor.cameras_path(tmp_path) == tmp_path / "cameras"
    assert settings.editor.detector.model == "yolov8n.pt"
    path = tmp_path / "central.yaml"
    for text, expected in (
        ("editor: {media_dir: [x]}\n", "editor.media_dir: unknown key (did you mean 'media_dirs'?)"),
        ("editor: {streams: [{name: a, url: 'not a url'}]}\n", "editor.streams[0].url: must be a stream URL"),
        ("editor: {streams: [{name: a, url: 'rtsp://h/1'}, {name: a, url: 'rtsp://h/2'}]}\n", "must not repeat"),
        ("editor: {streams: [{name: 'a/b', url: 'rtsp://h/1'}]}\n", "editor.streams[0].name: must match pattern"),
        ("editor: {max_test_seconds: 0}\n", "editor.max_test_seconds: must be greater than or equal to 1"),
    ):
        path.write_text(text)
        with pytest.raises(ConfigError) as caught:
            load_settings(path)
        assert any(expected in problem for problem in caught.value.problems), caught.value.problems


def test_a_stream_that_is_down_is_one_clear_line_without_its_password(editor) -> None:
    base, _central, _cameras = editor
    headers = bearer(base, "root")
    answer = httpx.get(f"{base}/admin/zones/frame", params={"source": "stream:gate-cam"}, headers=headers)
    assert answer.status_code == 422 and answer.json() == {"detail": "no frame could be read from the source now"}
    body = {"source": "stream:gate-cam", "seconds": 1, "config": draft("cam-gate", ROAD)}
    assert httpx.post(f"{base}/admin/zones/test", json=body, headers=headers).status_code == 202
    deadline = time.monotonic() + 30
    while (status := httpx.get(f"{base}/admin/zones/test", headers=headers).json())["state"] == "running":
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert status["state"] == "failed" and status["error"] == "no frame could be read from the source now"
    assert status["source_label"] == "gate-cam (stream)" and "s3cret" not in str(status)


def test_without_a_usable_model_no_frame_is_shown_at_all(tmp_path: Path) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    central.settings = CentralSettings(
        data_dir=tmp_path,
        editor={"media_dirs": [str(shared_file("media", FOOTAGE).parent)], "detector": {"model": "missing.tflite"}},
    )
    with serve(central) as base:
        answer = httpx.get(f"{base}/admin/zones/frame", params={"source": SOURCE}, headers=bearer(base, "root"))
    assert answer.status_code == 503 and answer.headers["content-type"].startswith("application/json")
    assert answer.json()["detail"] == (
        "no frame without redaction: model file not found: missing.tflite (set editor.detector in the central settings)"
    )


@pytest.mark.parametrize("uri", ["/etc/shadow", "file:///etc/passwd", "rtsp://10.0.0.9/other", "../../etc/hostname"])
def test_a_draft_without_a_chosen_source_may_only_name_a_known_one(editor, uri: str) -> None:
    base, _central, cameras = editor
    headers = bearer(base, "root")
    body = {"file": "y1", "config": draft("y1", ROAD, source={"uri": uri})}
    refused = httpx.post(f"{base}/admin/zones/save", json=body, headers=headers)
    assert refused.status_code == 422 and any(p.startswith("source.uri:") for p in refused.json()["problems"])
    assert not (cameras / "y1.yaml").exists()
    known = str(shared_file("media", FOOTAGE))
    body = {"file": "y1", "config": draft("y1", ROAD, source={"uri": known})}
    saved = httpx.post(f"{base}/admin/zones/save", json=body, headers=headers)
    assert saved.status_code == 200, saved.text
    (cameras / "y1.yaml").unlink()
    streamed = {"file": "y2", "config": draft("y2", ROAD, source={"uri": "rtsp://viewer:s3cret@127.0.0.1:9/stream"})}
    assert httpx.post(f"{base}/admin/zones/save", json=streamed, headers=headers).status_code == 200
    (cameras / "y2.yaml").unlink()


@pytest.mark.parametrize(
    ("section", "value", "setting"),
    [
        ({"detector": {"model": "/etc/passwd"}}, "detector.model", "editor.model_dirs"),
        ({"outbox": {"path": "/etc/cron.d/x.db"}}, "outbox.path", "editor.file_dirs"),
        ({"signing": {"key": "/etc/ssh/ssh_host_ed25519_key"}}, "signing.key", "editor.file_dirs"),
        ({"signing": {"central_key": "/etc/passwd"}}, "signing.central_key", "editor.file_dirs"),
        ({"mqtt": {"username": "cam", "password_file": "/etc/shadow"}}, "mqtt.password_file", "editor.file_dirs"),
        ({"mqtt": {"tls": {"ca_file": "/etc/hostname"}}}, "mqtt.tls.ca_file", "editor.file_dirs"),
    ],
    ids=["model", "outbox", "key", "central_key", "password_file", "ca_file"],
)
def test_a_draft_may_name_files_only_inside_their_folders(editor, section: dict, value: str, setting: str) -> None:
    """Issue 23 §9: the editor checked source.uri only, so any other path was written into the camera file."""
    base, _central, cameras = editor
    body = {"file": "p1", "source": SOURCE, "config": draft("p1", ROAD, **section)}
    refused = httpx.post(f"{base}/admin/zones/save", json=body, headers=bearer(base, "root"))
    assert refused.status_code == 422, refused.text
    (line,) = [p for p in refused.json()["problems"] if p.startswith(f"{value}:")]
    assert "is outside the folders a camera file may name" in line and setting in line, line
    assert not (cameras / "p1.yaml").exists()


def test_a_path_that_leads_out_of_its_folder_is_refused_and_one_inside_is_written(editor, model_path: Path) -> None:
    base, central, cameras = editor
    edge = central.settings.data_dir / "edge"
    (edge / "keys").mkdir(parents=True, exist_ok=True)
    (edge / "keys" / "out.key").unlink(missing_ok=True)
    (edge / "keys" / "out.key").symlink_to("/etc/passwd")
    headers = bearer(base, "root")
    for signing in ({"key": str(edge / "keys" / "out.key")}, {"key": f"{edge}/../../../etc/passwd"}):
        body = {"file": "p2", "source": SOURCE, "config": draft("p2", ROAD, signing=signing)}
        refused = httpx.post(f"{base}/admin/zones/save", json=body, headers=headers)
        assert refused.status_code == 422 and any(p.startswith("signing.key:") for p in refused.json()["problems"])
    inside = {
        "detector": {"model": str(model_path)},
        "outbox": {"path": str(edge / "outbox-p2.db")},
        "signing": {"key": str(edge / "keys" / "p2.key"), "central_key": str(edge / "keys" / "central.pub")},
        "mqtt": {"url": "mqtt://localhost:1883"},
    }
    saved = httpx.post(
        f"{base}/admin/zones/save",
        json={"file": "p2", "source": SOURCE, "config": draft("p2", ROAD, **inside)},
        headers=headers,
    )
    assert saved.status_code == 200, saved.text
    config = load_camera_config(cameras / "p2.yaml")
    assert config.outbox.path == edge / "outbox-p2.db" and config.detector.model == str(model_path)
    (cameras / "p2.yaml").unlink()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mqtt://broker.attacker.example:1883",
            "mqtt.url: broker broker.attacker.example is not allowed; allowed: "
            "127.0.0.1, localhost, ::1 (editor.mqtt_hosts)",
        ),
        ("mqtts://10.9.9.9", "mqtt.url: broker 10.9.9.9 is not allowed"),
        ("mqtt://cam:hunter2@127.0.0.1:1883", "mqtt.url: must not hold a user name or password"),
        ("mqtt://127.0.0.1:1883/x?y=1", "mqtt.url: must be mqtt://host:port or mqtts://host:port"),
    ],
)
def test_a_draft_may_publish_only_to_an_allowed_broker(editor, url: str, expected: str) -> None:
    base, _central, cameras = editor
    body = {"file": "m1", "source": SOURCE, "config": draft("m1", ROAD, mqtt={"url": url})}
    refused = httpx.post(f"{base}/admin/zones/save", json=body, headers=bearer(base, "root"))
    assert refused.status_code == 422, refused.text
    assert any(p.startswith(expected) for p in refused.json()["problems"]), refused.json()
    assert "hunter2" not in refused.text
    assert not (cameras / "m1.yaml").exists()


def test_the_allowed_brokers_and_schemes_come_from_the_settings(tmp_path: Path) -> None:
    settings = CentralSettings(data_dir=tmp_path, editor={"mqtt_schemes": ["mqtts"], "mqtt_hosts": ["*.town.example"]})
    assert confinement_problems({"mqtt": {"url": "mqtts://broker-2.town.example"}}, settings.editor, tmp_path) == []
    assert confinement_problems({"mqtt": {"url": "mqtt://broker-2.town.example"}}, settings.editor, tmp_path) == [
        "mqtt.url: mqtt:// is not allowed; allowed: mqtts:// (editor.mqtt_schemes)"
    ]
    with pytest.raises(ValueError, match="mqtt_hosts"):
        CentralSettings(editor={"mqtt_hosts": ["evil host/"]})
