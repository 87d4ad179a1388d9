"""Motion on synthetic frames: what moves, what only changed its light, and what a detection explains."""

import numpy as np

from edge.motion import MotionDetector
from models.config.zones import Zone

W, H = 320, 180
ROAD = Zone(name="road", kind="roadway", polygon=[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)])


def street() -> np.ndarray:
    rng = np.random.default_rng(3)
    base = rng.integers(60, 120, (H // 4, W // 4), dtype=np.uint8)
    return np.repeat(np.repeat(base, 4, axis=0), 4, axis=1)[:, :, None].repeat(3, axis=2)


def with_figure(x: int, y: int = 60) -> np.ndarray:
    """A dark figure 6 px wide and 14 px tall (a far pedestrian) at x, y."""
    frame = street()
    frame[y : y + 14, x : x + 6] = 10
    return frame


def test_a_still_scene_does_not_move_and_a_far_walker_does():
    motion = MotionDetector([ROAD], (W, H))
    for i in range(10):
        still = motion.update(street(), i / 10)
    assert not still.moving and still.blobs == ()
    for i in range(10, 20):
        seen = motion.update(with_figure(40 + 4 * (i - 10)), i / 10)
    assert seen.moving
    x = (40 + 4 * 9) / W
    assert any(b[0] <= x + 0.01 and b[2] >= x + 5 / W for b in seen.blobs), seen.blobs


def test_a_detection_explains_the_motion_inside_it():
    motion = MotionDetector([ROAD], (W, H))
    for i in range(5):
        motion.update(street(), i / 10)
    seen = motion.update(with_figure(100), 0.5)
    assert seen.unexplained([]) == list(seen.blobs) != []
    around = (90 / W, 50 / H, 116 / W, 84 / H)
    assert seen.unexplained([around]) == []


def test_a_change_of_light_moves_the_detector_but_pixelates_nothing():
    motion = MotionDetector([ROAD], (W, H))
    for i in range(5):
        motion.update(street(), i / 10)
    brighter = np.clip(street().astype(int) + 60, 0, 255).astype(np.uint8)
    seen = motion.update(brighter, 0.5)
    assert seen.moving and seen.blobs == ()


def test_motion_in_an_ignore_zone_does_not_wake_the_detector_but_is_still_pixelated():
    flag = Zone(name="flag", kind="ignore", polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5), (0.0, 0.5)])
    motion = MotionDetector([ROAD, flag], (W, H))
    for i in range(5):
        motion.update(street(), i / 10)
    seen = motion.update(with_figure(60, y=20), 0.5)
    assert not seen.moving and seen.blobs != ()


def test_redaction_cannot_lean_on_the_first_frame_or_a_change_of_light():
    """Neither shows where a person the detector missed is: the pipeline keeps no such frame as evidence."""
    motion = MotionDetector([ROAD], (W, H))
    assert not motion.update(with_figure(100), 0.0).vouched
    assert all(motion.update(street(), i / 10).vouched for i in range(1, 5))
    brighter = np.clip(street().astype(int) + 60, 0, 255).astype(np.uint8)
    assert not motion.update(brighter, 0.5).vouched
