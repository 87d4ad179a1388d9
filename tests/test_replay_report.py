"""`edge replay --report`: the collector on hand-written samples, then a real replay of the crosswalk clip's
first jaywalking whose HTML report is opened in Chromium (no console errors, every picture loaded, every
section there, nothing fetched from anywhere), and whose pictures of the scene show nobody the detector finds.
A full-page screenshot goes to artifacts/screenshots/replay_report.png."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.frame_ring import FrameRing
from edge.pipeline import PipelineStats
from edge.report import ReplayReport
from edge.report_data import ReportCollector, heat_map
from edge.samples import Detection, FrameSample
from models.config import load_camera_config
from tests.browser_support import shot
from tests.conftest import ROOT, run_cli, shared_file

CONFIG = "examples/jay_intersection_crosswalk.yaml"
VIDEO = "jay_intersection_crosswalk.mp4"
FRAMES = 20
"""12 frames are the fewest that still give the clip's first jaywalking (track 7, labelled at frames 0-68);
20 leave room for rule tuning and also catch the second person who starts at frame 3."""
WALL = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def person(x: float, y: float, track: int | None = None) -> Detection:
    """A person box whose foot point (bottom centre) is (x, y)."""
    return Detection("person", 0.8, (x - 0.02, y - 0.1, x + 0.02, y), track)


def sample(index: int, *detections: Detection, detected: bool = True) -> FrameSample:
    return FrameSample(index, index * 0.1, WALL, 640, 360, tuple(detections), detected=detected)


def test_heat_map_counts_person_feet_per_cell_on_detected_frames_only():
    collector = ReportCollector()
    collector.observe(
        sample(0, person(0.1, 0.2, 1), person(0.9, 0.9, 2), Detection("car", 0.9, (0.4, 0.4, 0.6, 0.6))), []
    )
    collector.observe(sample(1, person(0.12, 0.22, 1), person(1.0, 1.0, 2)), [])
    # A stride-skipped frame carries the last boxes over; counting them again would double the heat.
    collector.observe(sample(2, person(0.12, 0.22, 1), detected=False), [])
    counts = collector.heat_map(4, 2)
    assert counts.shape == (2, 4)
    assert counts[0, 0] == 2, "both feet near the top-left corner"
    assert counts[1, 3] == 2, "the bottom-right edge (x = y = 1.0) belongs to the last cell"
    assert counts.sum() == 4, "the car is no foot point and the skipped frame adds nothing"
    assert collector.classes == {"person": 4, "car": 1}
    assert heat_map([], 3, 2).tolist() == [[0, 0, 0], [0, 0, 0]]


def test_timeline_has_people_and_live_tracks_per_frame():
    collector = ReportCollector()
    collector.observe(sample(5, person(0.3, 0.5, 7), person(0.6, 0.5)), [])
    collector.observe(
        sample(6, person(0.31, 0.5, 7), person(0.6, 0.5, 9), Detection("bicycle", 0.7, (0, 0, 0.1, 0.1), 3)), []
    )
    collector.observe(sample(7), [])
    assert [(r.index, r.persons, r.tracks) for r in collector.rows] == [(5, 2, (7,)), (6, 2, (7, 9)), (7, 0, ())]
    assert collector.time_of(6) == pytest.approx(0.6) and collector.time_of(99) is None
    assert collector.track_count() == 2, "person tracks only; the bicycle's track is not a person"
    assert collector.size == (640, 360)


def test_backdrop_is_the_redacted_frame_with_fewest_people():
    ring, collector = FrameRing(10.0), ReportCollector()
    collector.watch(ring)
    for index, people in enumerate([3, 1, 2, 1]):
        ring.add(index, index * 0.1, np.full((36, 64, 3), 40 * index, np.uint8))
        collector.observe(sample(index, *[person(0.1 * (i + 1), 0.5, i) for i in range(people)]), [])
    assert collector.scene is not None and collector.scene.index == 1, "the first frame with the fewest people"


def test_a_replay_of_no_frames_still_renders_every_section():
    collector = ReportCollector()
    report = ReplayReport(shared_file("media", VIDEO), ROOT / CONFIG, load_camera_config(ROOT / CONFIG), collector)
    html = report.render(PipelineStats())
    for section in ("summary", "zones", "heatmap", "events", "timeline", "timing"):
        assert f'<section id="{section}">' in html
    assert "No infractions in this replay." in html and "avenue" in html and "zebra" in html


def test_report_path_that_cannot_be_written_is_one_line_error(tmp_path):
    video = str(shared_file("media", VIDEO))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    for target, needle in ((tmp_path, "is a directory"), (blocker / "report.html", "cannot create folder")):
        result = run_cli("edge", "replay", video, "--config", CONFIG, "--report", str(target))
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-1500:]
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) == 1 and errors[0].startswith(f"error: --report {target}: ") and needle in errors[0]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, str]:
    """One real replay with --report into a folder that does not exist yet, with no --evidence-dir."""
    out = tmp_path_factory.mktemp("report")
    scratch = out / "tmp"
    scratch.mkdir()
    path = out / "new" / "folder" / "report.html"
    result = run_cli(
        "edge", "replay", str(shared_file("media", VIDEO)), "--config", CONFIG,
        "--max-frames", str(FRAMES), "--report", str(path),
        env={"TMPDIR": str(scratch)}, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "events: jaywalking" in result.stdout and f"report: {path}" in result.stdout
    assert list(scratch.glob("curbwatch-report-*")) == [], (
        "the evidence written only for the report is deleted afterwards"
    )
    return path, result.stdout


def test_report_opens_in_chromium_without_errors_and_shows_every_section(report, browser):
    path, stdout = report
    html = path.read_text(encoding="utf-8")
    assert not re.search(r"https?://", html), "the page is self-contained: no URL to fetch"
    events = int(re.search(r"events: jaywalking (\d+)", stdout).group(1))

    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url[:40]))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")

    images = page.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth, i.closest('section').id])")
    assert images and all(complete and width > 0 for complete, width, _ in images), images
    where = [section for _, _, section in images]
    assert where.count("zones") == 1 and where.count("heatmap") == 1
    assert where.count("timeline") == 1 and where.count("timing") == 1
    assert page.locator("#events article.event").count() == events >= 1
    for article in page.locator("#events article.event").all():
        assert article.locator(".keyframes img").count() >= 3
        # The zone and the track are drawn by the report over each keyframe (the pictures have none burned in).
        assert article.locator(".keyframes svg polygon").count() == article.locator(".keyframes img").count()
        assert article.locator(".keyframes svg polyline").count() == article.locator(".keyframes img").count()
        trace = article.text_content()
        assert "Rule trace: jaywalking" in trace
        assert "avenue" in trace
        in_road = article.locator("table.trace-lines tr", has_text="in the road")
        assert re.fullmatch(r"in the road \d+\.\d s, needs at least 1\.0 s", in_road.locator("td").first.inner_text())
        assert in_road.locator("td").nth(1).inner_text() == "pass"
    stages = page.locator("#timing tbody tr td:first-child").all_inner_texts()
    assert stages == ["decode", "motion", "detect", "track", "rules", "redact", "encode"]
    assert "sha256" in page.locator("#summary").inner_text()
    assert problems == []
    assert all(url.startswith(("file:", "data:")) for url in requested), requested

    shot(page, "replay_report")
    page.context.close()


def test_no_person_is_detectable_in_the_reports_pictures(report, model_path):
    """Privacy: every picture of the scene in the report is cut from redacted frames; the detector that finds
    people in the raw footage finds none there."""
    from edge.detector import Detector
    from models.config.detector import DetectorConfig

    html = report[0].read_text(encoding="utf-8")
    pictures = [
        cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
        for data in re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    ]
    assert len(pictures) >= 5, "the zones, the heat map and at least three keyframes"
    detector = Detector(DetectorConfig(model=str(model_path)))
    capture = cv2.VideoCapture(str(shared_file("media", VIDEO)))
    ok, raw = capture.read()
    capture.release()
    assert ok and any(d.cls == "person" for d in detector.detect_only(raw)), "the raw footage shows people"
    found = [(i, d) for i, picture in enumerate(pictures) for d in detector.detect_only(picture) if d.cls == "person"]
    assert found == []


def test_help_does_not_load_matplotlib():
    """`edge replay --help` stays quick: the report's plotting is imported only when a report is written."""
    import subprocess
    import sys

    probe = (
        "import sys; from click.testing import CliRunner; from curbwatch.cli import cli; "
        "r = CliRunner().invoke(cli, ['edge', 'replay', '--help']); "
        "print('--report' in r.output, 'matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.stdout.split() == ["True", "False"], result.stderr[-1500:]
