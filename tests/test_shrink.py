"""Frames made smaller fast: the picture of OpenCV's exact area averaging, within a few grey levels."""

import cv2
import numpy as np
import pytest

from edge.shrink import shrink
from tests.conftest import shared_file


@pytest.mark.parametrize("size", [(640, 480), (320, 240), (640, 360), (333, 250)])
def test_a_shrunk_frame_is_the_area_averaged_one_within_a_few_grey_levels(size):
    capture = cv2.VideoCapture(str(shared_file("media", "ped_vtest_opencv_768x576.avi")))
    ok, frame = capture.read()
    assert ok
    exact = cv2.resize(frame, size, interpolation=cv2.INTER_AREA).astype(int)
    fast = shrink(frame, size)
    assert fast.shape == exact.shape
    difference = np.abs(fast.astype(int) - exact)
    assert difference.mean() < 3.0 and np.percentile(difference, 99) < 30


def test_a_frame_already_that_size_is_returned_as_it_is():
    image = np.zeros((100, 200, 3), np.uint8)
    assert shrink(image, (200, 100)) is image
