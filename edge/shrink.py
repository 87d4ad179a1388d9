"""Making frames smaller, fast: OpenCV's area averaging costs 5-15x more when the scale is not a whole number
(768 -> 640 px wide: 9 ms against 0.5 ms for 1280 -> 640 on one core), and every frame of a camera is made smaller
three or four times (motion, optical flow, evidence ring, background model). Here the whole-number part of the
scale is averaged exactly and the rest, under 2x, is interpolated: the same picture within a grey level or two, at
the cost of a linear resize."""

from __future__ import annotations

import cv2
import numpy as np


def shrink(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """`image` made `size` (width, height) by averaging, which keeps small moving things and avoids aliasing."""
    height, width = image.shape[:2]
    if (width, height) == size:
        return image
    factor = min(width // size[0], height // size[1])
    if factor >= 2:
        # Whole-number area averaging takes OpenCV's fast path.
        whole = (width // factor, height // factor)
        image = cv2.resize(image[: whole[1] * factor, : whole[0] * factor], whole, interpolation=cv2.INTER_AREA)
    if (image.shape[1], image.shape[0]) == size:
        return image
    return cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
