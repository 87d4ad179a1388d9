"""Camera motion for the static-region detector: where the pixels of the current frame lie in a reference view.

A pole camera drifts and shakes in the wind; a hand-held one pans and turns. The static-region detector keeps
its backgrounds in one reference view and needs, for every frame, the homography that takes the frame's pixels
into that view. It is fitted with RANSAC to ORB corners of the frame matched with those of the reference
picture, so people walking through the picture (outliers) do not drag it along. A fit that moves no corner of
the frame by more than `STILL_PX` is taken as no motion at all, so a still camera's frames are used as they
are, never resampled."""

from __future__ import annotations

import math

import cv2
import numpy as np

from edge.boxes import Box

FEATURES = 800
MIN_MATCHES = 25
"""Fewer RANSAC inliers than this and the frame is not matched to the reference."""
RATIO = 0.8
"""Lowe's ratio test: a match must be clearly better than the second best (paving repeats its pattern)."""
RANSAC_PX = 3.0
"""Reprojection error (working pixels) of a match that agrees with the fit."""
STILL_PX = 1.0
"""A fit that moves no corner of the frame farther than this (working pixels) is no motion."""
REFRESH_S = 2.0
"""The reference picture (the long-term background) changes slowly: its corners are found again this often."""
IDENTITY = np.eye(3, dtype=np.float64)


class CameraMotion:
    def __init__(self) -> None:
        self._orb = cv2.ORB.create(FEATURES)
        self._matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        self._points: np.ndarray | None = None
        self._descriptors: np.ndarray | None = None
        self._refreshed_t = -math.inf

    def forget(self) -> None:
        """The reference picture started over: find its corners again next time."""
        self._refreshed_t = -math.inf

    def to_reference(self, gray: np.ndarray, reference: np.ndarray, t: float) -> np.ndarray | None:
        """The 3x3 homography taking `gray`'s pixels to `reference`'s: IDENTITY when the camera has not moved
        (or the reference has too little texture to tell), None when the frame cannot be matched to it."""
        if t - self._refreshed_t >= REFRESH_S:
            self._refreshed_t = t
            keypoints, self._descriptors = self._orb.detectAndCompute(_bytes(reference), None)
            self._points = np.array([k.pt for k in keypoints], np.float32) if keypoints else None
        if self._descriptors is None or self._points is None or len(self._points) < MIN_MATCHES:
            return IDENTITY
        keypoints, descriptors = self._orb.detectAndCompute(_bytes(gray), None)
        if descriptors is None or len(keypoints) < MIN_MATCHES:
            return None
        pairs = self._matcher.knnMatch(descriptors, self._descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
        if len(good) < MIN_MATCHES:
            return None
        source = np.array([keypoints[m.queryIdx].pt for m in good], np.float32)
        target = self._points[[m.trainIdx for m in good]]
        homography, inliers = cv2.findHomography(source, target, cv2.RANSAC, RANSAC_PX)
        if homography is None or inliers is None or int(inliers.sum()) < MIN_MATCHES:
            return None
        height, width = gray.shape[:2]
        if corner_shift(homography, width, height) <= STILL_PX:
            return IDENTITY
        return homography


def corner_shift(homography: np.ndarray, width: int, height: int) -> float:
    """How far (pixels) the homography moves the farthest corner of a width x height frame."""
    corners = np.array([[[0, 0]], [[width, 0]], [[0, height]], [[width, height]]], np.float32)
    moved = cv2.perspectiveTransform(corners, homography)
    return float(np.abs(moved - corners).max())


def box_through(homography: np.ndarray, box: Box, size: tuple[int, int]) -> Box:
    """The bounding box (normalised) of a normalised box carried through a homography in pixels of `size`."""
    width, height = size
    x1, y1, x2, y2 = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    corners = np.array([[[x1, y1]], [[x2, y1]], [[x1, y2]], [[x2, y2]]], np.float32)
    moved = cv2.perspectiveTransform(corners, homography)[:, 0, :]
    return (
        float(moved[:, 0].min()) / width,
        float(moved[:, 1].min()) / height,
        float(moved[:, 0].max()) / width,
        float(moved[:, 1].max()) / height,
    )


def _bytes(picture: np.ndarray) -> np.ndarray:
    return np.clip(picture, 0, 255).astype(np.uint8)
