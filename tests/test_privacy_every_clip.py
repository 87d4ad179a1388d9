"""Privacy at the default settings, on every shared clip: the detector that finds people in the raw footage
finds none in anything a replay writes (evidence keyframes and clips, the annotated video, the replay report's
pictures), although the detector now runs on only some frames and redaction carries people between them; and a
camera's privacy zones keep no detail anywhere a replay writes frames."""

import base64
import re

import cv2
import numpy as np
import pytest

from edge.boxes import iou
from edge.detector import Detector
from models.config.camera import load_camera_config
from models.config.detector import DetectorConfig
from tests.conftest import run_cli, shared_file

pytestmark = pytest.mark.slow

CLIPS = {
    "jay_intersection_crosswalk.mp4": "examples/jay_intersection_crosswalk.yaml",
    "ped_vtest_opencv_768x576.avi": "examples/ped_vtest_opencv_768x576.yaml",
    "ped_zebra_london_streetlevel.mp4": "examples/ped_zebra_london_streetlevel.yaml",
    "litter_aboda_video4_bag_left_outdoor.avi": "examples/litter_aboda_video4_bag_left_outdoor.yaml",
    "litter_pavement_drop_walkaway.mp4": "examples/litter_pavement_drop_walkaway.yaml",
}
NOT_PEOPLE = {
    "ped_vtest_opencv_768x576.avi": [(0.21, 0.435, 0.253, 0.48)],
    "ped_zebra_london_streetlevel.mp4": [(0.672, 0.423, 0.697, 0.547)],
}
"""Things that stay in one place for the whole clip and that the model, on a re-encoded frame, sometimes calls a
person: vtest's object lying on the grass (shared media README; dog, bird or surfboard in the raw frames), the
London crossing's signal pole with its yellow push-button box. A person box on one of them is not a leak."""
UNTOUCHED = 12
"""Grey levels within which an annotated frame's pixel is the raw one (MJPG re-encoding differs by a few)."""
EVERY_NTH = 6
"""Frames of the annotated video and evidence clips checked: one in this many (people move little in between)."""


@pytest.fixture(scope="module")
def checker(model_path):
    return Detector(DetectorConfig(model=str(model_path)))


def _frames(path, every: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames, index = [], 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % every == 0:
            frames.append(frame)
        index += 1
    capture.release()
    return frames


def _untouched_share(annotated: np.ndarray, raw: np.ndarray, box: tuple) -> float:
    """Share of the middle of a box where the annotated frame still shows the raw pixels."""
    h, w = raw.shape[:2]
    x1, y1, x2, y2 = box
    cx1, cx2 = int((x1 + (x2 - x1) * 0.25) * w), int((x2 - (x2 - x1) * 0.25) * w) + 1
    cy1, cy2 = int((y1 + (y2 - y1) * 0.25) * h), int((y2 - (y2 - y1) * 0.25) * h) + 1
    a = cv2.cvtColor(annotated[cy1:cy2, cx1:cx2], cv2.COLOR_BGR2GRAY).astype(int)
    r = cv2.cvtColor(raw[cy1:cy2, cx1:cx2], cv2.COLOR_BGR2GRAY).astype(int)
    return float((np.abs(a - r) <= UNTOUCHED).mean()) if a.size else 0.0


def _raw_person_at(checker: Detector, raw: np.ndarray, box: tuple) -> bool:
    return any(d.cls == "person" and iou(d.box, box) > 0.3 for d in checker.detect_only(raw, confidence=0.1))


def _people(checker: Detector, images: list[np.ndarray], clip: str = "") -> list[tuple[int, float, tuple]]:
    objects = NOT_PEOPLE.get(clip, [])
    return [
        (i, round(d.confidence, 2), tuple(round(v, 3) for v in d.box))
        for i, image in enumerate(images)
        for d in checker.detect_only(image)
        if d.cls == "person" and not any(iou(d.box, box) > 0.5 for box in objects)
    ]


@pytest.mark.parametrize("clip", sorted(CLIPS))
def test_nobody_is_detectable_in_what_a_replay_writes(clip, tmp_path, checker):
    video = shared_file("media", clip)
    raw = _frames(video, 20)
    assert _people(checker, raw), f"{clip}: the raw footage shows people the detector finds"
    result = run_cli(
        "edge", "replay", str(video), "--config", CLIPS[clip],
        "--evidence-dir", str(tmp_path / "evidence"),
        "--annotate", str(tmp_path / "annotated.avi"),
        "--report", str(tmp_path / "report.html"),
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    evidence = [cv2.imread(str(p)) for p in sorted((tmp_path / "evidence").glob("*.jpg"))]
    for webm in sorted((tmp_path / "evidence").glob("*.webm")):
        evidence += _frames(webm, EVERY_NTH)
    assert _people(checker, evidence, clip) == [], f"{clip}: a person is detectable in the evidence"
    annotated = _frames(tmp_path / "annotated.avi", EVERY_NTH)
    assert len(annotated) >= 10
    # The annotated video draws a box and a label around every (pixelated) person, and the model then now and then
    # finds a person in a pixelated silhouette with a bicycle, or in raw street beside such a drawing (scores
    # under 0.35). A leak is a person found where the frame still shows the raw pixels and where the raw frame
    # itself shows a person.
    source = _frames(video, EVERY_NTH)
    leaks = [
        (i, score, box)
        for i, score, box in _people(checker, annotated, clip)
        if _untouched_share(annotated[i], source[i], box) > 0.5 and _raw_person_at(checker, source[i], box)
    ]
    assert leaks == [], f"{clip}: a person is detectable, unredacted, in the annotated video"
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    pictures = [
        cv2.imdecode(np.frombuffer(base64.b64decode(data), np.uint8), cv2.IMREAD_COLOR)
        for data in re.findall(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    ]
    assert len(pictures) >= 2, "the zones and the heat map at least"
    assert _people(checker, pictures, clip) == [], f"{clip}: a person is detectable in the report's pictures"
    zones = [z for z in load_camera_config(CLIPS[clip]).zones if z.kind == "privacy"]
    if zones:
        raw_detail = min(_detail(frame, zones) for frame in source)
        kept = [("evidence", image) for image in evidence] + [("annotated video", image) for image in annotated]
        textured = [(where, round(_detail(image, zones), 1)) for where, image in kept]
        assert all(value < raw_detail / 2 for _, value in textured), (
            f"{clip}: a privacy zone keeps detail (raw footage {raw_detail:.1f}): {textured}"
        )


def _detail(image: np.ndarray, zones: list) -> float:
    """Mean Laplacian inside the privacy zones (their edges left out): texture in raw footage, little in blocks."""
    h, w = image.shape[:2]
    inside = np.zeros((h, w), np.uint8)
    for zone in zones:
        cv2.fillPoly(inside, [np.array([[x * (w - 1), y * (h - 1)] for x, y in zone.polygon], np.int32)], 1)
    inside = cv2.erode(inside, np.ones((7, 7), np.uint8)).astype(bool)
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float64)
    return float(np.abs(cv2.Laplacian(grey, cv2.CV_64F)[inside]).mean())
