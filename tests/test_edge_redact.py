"""Redaction on synthetic frames: what is hidden, for how long, and what mode `head` leaves visible."""

import numpy as np
import pytest

from edge.redact import Redactor
from edge.samples import Detection
from models.config.redaction import RedactionConfig

BOX = (0.25, 0.25, 0.5, 0.75)


def textured(h: int = 200, w: int = 200) -> np.ndarray:
    rng = np.random.default_rng(7)
    return rng.integers(0, 255, (h, w, 3), dtype=np.uint8)


def person(box=BOX, track_id: int | None = 1) -> tuple[Detection, ...]:
    return (Detection("person", 0.9, box, track_id),)


def changed(a: np.ndarray, b: np.ndarray, box) -> float:
    h, w = a.shape[:2]
    x1, y1, x2, y2 = box
    ys, xs = slice(int(y1 * h), int(y2 * h)), slice(int(x1 * w), int(x2 * w))
    return float(np.mean(np.any(a[ys, xs] != b[ys, xs], axis=2)))


def test_person_mode_pixelates_the_whole_box_and_leaves_the_rest():
    frame = textured()
    redactor = Redactor(RedactionConfig())
    redactor.update(0.0, person(), detected=True)
    out = redactor.apply(frame, 0.0)
    assert changed(frame, out, BOX) > 0.95
    assert changed(frame, out, (0.75, 0.0, 1.0, 0.2)) == 0.0
    assert np.array_equal(frame, textured()), "the raw frame is left untouched"


def test_missed_and_stride_skipped_frames_stay_redacted_with_a_growing_box():
    frame = textured()
    redactor = Redactor(RedactionConfig(), hold_s=1.5)
    redactor.update(0.0, person(), detected=True)
    redactor.update(0.5, (), detected=True)  # the detector missed the person
    redactor.update(0.6, (), detected=False)  # a stride-skipped frame
    held = redactor.regions(0.6)
    assert len(held) == 1
    assert held[0][0] < BOX[0] and held[0][2] > BOX[2], "a held box grows while the person is unseen"
    assert changed(frame, redactor.apply(frame, 0.6), BOX) > 0.95
    redactor.update(2.0, (), detected=True)
    assert redactor.regions(2.0) == [], "after the hold time the box is dropped"


def test_untracked_people_are_redacted_too():
    redactor = Redactor(RedactionConfig())
    redactor.update(0.0, person(track_id=None), detected=True)
    assert len(redactor.regions(0.0)) == 1


def test_low_score_people_the_tracker_dropped_are_redacted_once_each():
    redactor = Redactor(RedactionConfig())
    other = (0.7, 0.1, 0.8, 0.4)
    for k in range(5):
        t = k * 0.1
        nudged = (other[0] + 0.002 * k, other[1], other[2] + 0.002 * k, other[3])
        redactor.update(t, person(), detected=True, untracked_people=[BOX, nudged])
    regions = redactor.regions(0.4)
    assert len(regions) == 2, "one region for the tracked person, one for the untracked one (not five)"


def test_head_mode_covers_the_top_of_the_box_only():
    frame = textured()
    redactor = Redactor(RedactionConfig(mode="head"))
    redactor.update(0.0, person(), detected=True)
    out = redactor.apply(frame, 0.0)
    assert changed(frame, out, (0.26, 0.26, 0.49, 0.35)) > 0.95
    assert changed(frame, out, (0.26, 0.55, 0.49, 0.74)) == 0.0


def test_off_mode_changes_nothing_and_says_so():
    frame = textured()
    redactor = Redactor(RedactionConfig(mode="off"))
    redactor.update(0.0, person(), detected=True)
    assert not redactor.enabled
    assert np.array_equal(redactor.apply(frame, 0.0), frame)


@pytest.mark.parametrize("block_px", [4, 12])
def test_large_close_person_is_reduced_to_a_few_blocks_whatever_the_block_size(block_px: int):
    frame = textured(400, 400)
    redactor = Redactor(RedactionConfig(block_px=block_px))
    redactor.update(0.0, person((0.1, 0.1, 0.9, 0.9)), detected=True)
    out = redactor.apply(frame, 0.0)
    distinct = np.unique(out[80:320, 80:320].reshape(-1, 3), axis=0)
    assert len(distinct) <= 100


def test_between_detections_a_walker_stays_covered_where_their_motion_carries_them():
    redactor = Redactor(RedactionConfig())
    redactor.update(0.0, person((0.10, 0.3, 0.20, 0.7)), detected=True)
    redactor.update(0.2, person((0.15, 0.3, 0.25, 0.7)), detected=True)  # 0.25 frame widths a second, rightwards
    (region,) = redactor.regions(0.6)
    assert region[0] <= 0.15, "where they were last seen"
    assert region[2] >= 0.25 + 0.25 * 0.4, "and where they walk to before the next detection"


def test_two_overlapping_untracked_people_of_one_run_are_both_covered():
    redactor = Redactor(RedactionConfig())
    left, right = (0.50, 0.4, 0.54, 0.6), (0.52, 0.4, 0.56, 0.6)
    redactor.update(0.0, (Detection("person", 0.5, left), Detection("person", 0.4, right)), detected=True)
    (region,) = redactor.regions(0.0)
    assert region[0] <= left[0] and region[2] >= right[2]


def test_motion_no_detection_explains_is_pixelated():
    frame = textured()
    redactor = Redactor(RedactionConfig())
    redactor.update(0.0, (), detected=True)
    far_figure = (0.8, 0.1, 0.84, 0.18)
    out = redactor.apply(frame, 0.0, [far_figure])
    assert changed(frame, out, far_figure) > 0.9
    assert changed(frame, out, BOX) == 0.0
