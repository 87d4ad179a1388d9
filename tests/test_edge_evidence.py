"""Evidence from the ring of redacted frames: keyframes and a WebM clip, named by sha256, that a browser plays."""

import hashlib
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.evidence import EvidenceWriter, pick_keyframes
from edge.frame_ring import FrameRing
from edge.rules.base import RuleHit


def ring_of(frames: int = 60, fps: float = 10.0, seconds: float = 15.0) -> FrameRing:
    ring = FrameRing(seconds)
    for i in range(frames):
        image = np.full((240, 320, 3), 90, np.uint8)
        cv2.circle(image, (20 + i * 4, 150), 8, (0, 200, 0), -1)
        ring.add(i, i / fps, image)
    return ring


def hit(frame_start: int = 20, frame_end: int = 50, key_frames: tuple[int, ...] = ()) -> RuleHit:
    return RuleHit(
        type="jaywalking",
        track_id=3,
        zone="road",
        frame_start=frame_start,
        frame_end=frame_end,
        t_start=frame_start / 10,
        t_end=frame_end / 10,
        confidence=0.8,
        trajectory=tuple((k * 0.5, 0.2 + k * 0.05, 0.6) for k in range(7)),
        thresholds={"min_duration_s": 1.0},
        measurements={"duration_s": 3.0},
        rule_version="1",
        key_frames=key_frames,
    )


def test_ring_keeps_only_the_last_seconds():
    ring = ring_of(frames=100, seconds=5.0)
    last = ring.last()
    assert last is not None and last.index == 99
    assert ring.nearest(0).index == 49, "frames older than 5 s are gone"


def test_keyframes_follow_the_rule_or_spread_over_the_event():
    ring = ring_of()
    assert [f.index for f in pick_keyframes(hit(key_frames=(21, 30, 44)), ring)] == [21, 30, 44]
    assert [f.index for f in pick_keyframes(hit(), ring)] == [20, 30, 40, 50]


@pytest.fixture(scope="module")
def evidence(tmp_path_factory) -> list:
    directory = tmp_path_factory.mktemp("evidence")
    return EvidenceWriter(directory).build(hit(), ring_of())


def test_keyframes_and_a_clip_each_named_by_sha256(evidence):
    roles = [ref.role for ref, _ in evidence]
    assert roles.count("keyframe") == 4 and roles.count("clip") == 1
    for ref, path in evidence:
        data = Path(path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == ref.sha256
        assert Path(path).name == ref.sha256 + (".jpg" if ref.media_type == "image/jpeg" else ".webm")
    clip = next(path for ref, path in evidence if ref.role == "clip")
    capture = cv2.VideoCapture(str(clip))
    decoded = 0
    while capture.read()[0]:
        decoded += 1
    # From 1 s before the start to the last buffered frame (frame 59), thinned to 6 fps.
    assert 20 <= decoded <= 30


def test_keyframes_and_clip_are_the_redacted_frames_as_filmed(evidence):
    """Nothing burned in: no zone outline, trajectory, item box or caption; the console draws those from the
    message. Each keyframe is its ring frame within JPEG noise, and the clip's frames too (within VP8's)."""
    ring = ring_of()
    keyframes = [path for ref, path in evidence if ref.role == "keyframe"]
    for frame, path in zip(pick_keyframes(hit(), ring), keyframes, strict=True):
        difference = np.abs(cv2.imread(str(path)).astype(int) - frame.image().astype(int))
        assert difference.max() < 40 and difference.mean() < 2, "the keyframe is the ring's frame as it was"
    clip = next(path for ref, path in evidence if ref.role == "clip")
    capture = cv2.VideoCapture(str(clip))
    ok, first = capture.read()
    assert ok
    # The ring's frames are grey 90 with one green dot: any magenta, red or white line would be burned geometry.
    blue, green, red = (first[..., c].astype(int) for c in range(3))
    assert not ((red > 150) | (blue > 150)).any() and (green < 230).all()


def test_writing_a_clip_prints_nothing_to_stderr(tmp_path):
    """OpenCV's "tag 'VP80' is not supported" notice is a false alarm on every clip; other output still shows."""
    script = f"""
import os
from pathlib import Path
from edge.evidence import EvidenceWriter, without_webm_tag_notice
from tests.test_edge_evidence import hit, ring_of
refs = EvidenceWriter(Path({str(tmp_path)!r})).build(hit(), ring_of())
assert [ref.role for ref, _ in refs].count("clip") == 1
with without_webm_tag_notice():
    os.write(2, b"something else\\n")
"""
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "something else\n"
    assert len(list(tmp_path.glob("*.webm"))) == 1


def test_clip_plays_in_a_browser(evidence, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.browser_support import launch

    clip = next(path for ref, path in evidence if ref.role == "clip")
    page_file = tmp_path / "play.html"
    page_file.write_text(f'<video id="v" src="file://{clip}" muted></video>')
    with sync_playwright() as p:
        browser = launch(p, "--allow-file-access-from-files")
        try:
            page = browser.new_page()
            page.goto(f"file://{page_file}")
            state = page.evaluate(
                """() => new Promise((resolve) => {
                    const v = document.getElementById('v');
                    const done = () => resolve({w: v.videoWidth, h: v.videoHeight, d: v.duration,
                                                err: v.error && v.error.code, t: v.currentTime});
                    v.addEventListener('error', done);
                    v.addEventListener('ended', done);
                    v.play().catch(done);
                    setTimeout(done, 15000);
                })"""
            )
        finally:
            browser.close()
    assert state["err"] is None
    assert (state["w"], state["h"]) == (320, 240)
    assert state["d"] > 2.0 and state["t"] > 2.0, "the browser decoded and played it through"


def test_a_littering_event_shows_the_spot_before_and_after_side_by_side(tmp_path):
    """Frames 0-29 show bare paving; from frame 30 a dark bag lies at (0.5, 0.6). The event's first keyframe is
    the spot enlarged, before (left) and after (right), so a reviewer sees at a glance that a thing lies there."""
    ring = FrameRing(15.0)
    for i in range(60):
        image = np.full((240, 320, 3), 150, np.uint8)
        if i >= 30:
            cv2.rectangle(image, (152, 136), (168, 148), (20, 20, 20), -1)
        ring.add(i, i / 10, image)
    littering = RuleHit(
        **{**hit(frame_start=31, frame_end=59).__dict__, "type": "littering", "item_box": (0.475, 0.567, 0.525, 0.617)}
    )
    refs = EvidenceWriter(tmp_path).build(littering, ring)
    assert refs[0][0].role == "item_crop", "a composite crop, which the console must not draw a frame's layers over"
    pair = cv2.imread(str(refs[0][1]))
    assert pair.shape[:2] == (240, 484)
    before, after = pair[105:135, 105:135], pair[105:135, 349:379]  # the middle of each half
    assert before.mean() > 120 and after.mean() < 90, "bare paving before, the bag after"
    assert len([ref for ref, _ in refs if ref.role == "keyframe"]) == 4
