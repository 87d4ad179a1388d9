"""Where the detector looks (issue 22), on hand-made boxes and zones: the zones' window, the regions around
people and motion, the shapes of their model inputs."""

import numpy as np
import pytest

from edge.privacy_mask import PrivacyMask
from edge.regions import FULL_WINDOW, around, blob_area, model_input, placed, regions, window_of
from models.config.zones import Zone

ROAD = Zone(name="road", kind="roadway", polygon=[(0.2, 0.55), (0.9, 0.55), (0.9, 0.7), (0.2, 0.7)])
PAVEMENT = Zone(name="pavement", kind="sidewalk", polygon=[(0.1, 0.7), (0.95, 0.7), (0.95, 0.9), (0.1, 0.9)])
WINDOWS = Zone(name="windows", kind="privacy", polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 0.3), (0.0, 0.3)])


def test_the_window_holds_the_rule_zones_and_a_person_standing_on_their_far_edge():
    x1, y1, x2, y2 = window_of([ROAD, PAVEMENT, WINDOWS])
    assert x1 < 0.1 and x2 > 0.95 and y2 > 0.9, "every rule zone, with a margin for feet at the edge"
    assert y1 == pytest.approx(0.55 - 0.25), "a person's height above the far edge: their head is seen too"
    # A privacy zone asks for nothing to be detected, so it does not stretch the window to the top of the frame.
    assert window_of([WINDOWS]) == FULL_WINDOW, "no rule zone at all: the whole frame"


def test_a_region_holds_where_a_person_can_be_by_the_next_detection():
    walker = (0.40, 0.50, 0.44, 0.70)  # 0.2 frame heights tall
    now, later = around(walker, 0.0, 9 / 16), around(walker, 0.25, 9 / 16)
    assert now[0] < walker[0] and now[3] > walker[3], "a little more than the box, however soon"
    assert later[0] < now[0] and later[3] > now[3], "more the longer until the next look"
    # Growth in body heights: across, the same number of body heights as down (the frame's aspect converts).
    assert (walker[1] - later[1]) == pytest.approx((walker[0] - later[0]) / (9 / 16))
    blob = blob_area((0.5, 0.5, 0.51, 0.51), 1.0)
    assert blob[0] <= 0.47 and blob[3] >= 0.54, "a few moving pixels stand for a whole far walker"


def test_regions_are_squares_around_what_is_wanted_inside_the_window_and_none_when_nothing_is():
    window, frame = (0.0, 0.3, 1.0, 1.0), (1000, 500)
    assert regions([(0.1, 0.1, 0.2, 0.2)], window, frame, 200) == [], "a person on the roof opposite: not looked for"
    assert regions([], window, frame, 200) == []
    apart = regions([(0.1, 0.4, 0.15, 0.6), (0.7, 0.6, 0.75, 0.8)], window, frame, 200)
    assert sorted(apart) == [(25, 150, 225, 350), (625, 250, 825, 450)], "two walkers far apart: a square each"
    together = regions([(0.1, 0.4, 0.15, 0.6), (0.16, 0.5, 0.2, 0.7)], window, frame, 200)
    assert together == [(50, 175, 250, 375)], "two side by side share one square, so no one is cut in two"
    big = regions([(0.4, 0.3, 0.6, 0.9)], window, frame, 200)
    assert big == [(350, 150, 650, 450)], "someone close to the lens: a larger square, scaled down to the input"
    crowd = regions([(x / 10, 0.5, x / 10 + 0.05, 0.6) for x in range(9)], window, frame, 100)
    assert len(crowd) <= 3, "at most three runs, however many people"
    held = [any(r[0] <= x * 100 and r[2] >= x * 100 + 50 for r in crowd) for x in range(9)]
    assert all(held), "everyone inside a square"


def test_model_inputs_are_multiples_of_32():
    assert model_input(1280, 576, 0.5) == (288, 640), "the zones' window at the whole frame's pixel scale"
    assert model_input(200, 100, 0.5) == (64, 128)


def test_the_part_of_the_frame_given_to_the_model_stays_inside_the_frame():
    left, top, right, bottom = placed((0.9, 0.8, 1.0, 1.0), (192, 256), 0.5, (1280, 720))
    assert (right, bottom) == (1280, 720) and (right - left, bottom - top) == (512, 384)
    whole = placed((0.0, 0.0, 1.0, 1.0), (640, 640), 0.5, (1280, 720))
    assert whole == (0, 0, 1280, 720), "larger than the frame: cut to it"


def test_what_the_detector_never_looks_at_is_pixelated_in_evidence():
    raw = np.random.default_rng(3).integers(0, 255, (200, 300, 3), dtype=np.uint8)
    image = raw.copy()
    PrivacyMask([ROAD], block_px=12, outside=(0.2, 0.3, 0.9, 1.0)).apply(image)
    inside = (slice(80, 190), slice(70, 260))
    above = (slice(0, 50), slice(0, 300))
    left = (slice(100, 190), slice(0, 50))

    def detail(part: tuple[slice, slice], of: np.ndarray) -> float:
        return float(np.abs(np.diff(of[part].astype(int), axis=1)).mean())

    assert np.array_equal(image[inside], raw[inside])
    assert detail(above, image) < 0.2 * detail(above, raw) and detail(left, image) < 0.2 * detail(left, raw)


def test_check_config_says_where_the_detector_looks(tmp_path):
    from edge.regions import describe
    from models.config.detector import DetectorConfig

    on = describe([ROAD, PAVEMENT, WINDOWS], DetectorConfig())
    assert "y 0.30-0.94" in on and "pixelated in evidence" in on
    assert "whole frame" in describe([ROAD], DetectorConfig(regions=False))
