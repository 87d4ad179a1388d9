"""Tracking without torch: Roboflow's `trackers` (ByteTrack, OC-SORT, BoT-SORT without re-identification),
fed the detector's boxes with their source timestamps, so a lost track is kept for a time in seconds and
the motion model steps by the real gap between two detections, whatever the detection rate.

No appearance features are used by any of them (DESIGN.md section 6): boxes, scores and motion only."""

from __future__ import annotations

import warnings

import numpy as np

from edge.detect.yolo_io import RawDetections
from edge.flow_tracking import FlowTracker

LOST_TRACK_S = 2.0
"""How long a track that no detection matched is kept for a detection to take it up again: a walker hidden
by a pole or a passing car for up to this long keeps their id (and their crossing)."""
ACTIVATION_SCORE = 0.25
"""A detection at or above this score may start a track, and is matched first (the two-stage matching keeps
lower ones, down to the detector's input threshold, for tracks that already exist)."""
MIN_IOU = 0.2
"""Least overlap between a track's predicted box and a detection for the two to match."""


def _build(kind: str, rate: float) -> object:
    import trackers

    # The library counts its buffer in frames of a 30 fps video, and prunes by buffer / 30 seconds when it is
    # given timestamps, as here.
    common = {
        "lost_track_buffer": round(LOST_TRACK_S * 30),
        "frame_rate": rate,
        "minimum_consecutive_frames": 1,
        "high_conf_det_threshold": ACTIVATION_SCORE,
    }
    cls, own = {
        "bytetrack": (
            trackers.ByteTrackTracker,
            {"track_activation_threshold": ACTIVATION_SCORE, "minimum_iou_threshold": MIN_IOU},
        ),
        "ocsort": (trackers.OCSORTTracker, {"minimum_iou_threshold": MIN_IOU}),
        "botsort": (
            trackers.BoTSORTTracker,
            {"track_activation_threshold": ACTIVATION_SCORE, "minimum_iou_threshold_first_assoc": MIN_IOU},
        ),
    }[kind]
    return cls(**common, **own)


class Tracker:
    """One camera's tracks. `rate` is the nominal detections per second (the motion model's unit step)."""

    def __init__(self, kind: str, rate: float) -> None:
        self.kind = kind
        self._flow = FlowTracker(LOST_TRACK_S, ACTIVATION_SCORE, MIN_IOU) if kind == "flow" else None
        self._tracker = None if self._flow is not None else _build(kind, rate)
        self._needs_frame = kind == "botsort"  # its camera-motion compensation looks at the frame

    def between(self, image: np.ndarray, t: float) -> None:
        """A frame the detector skips: the flow tracker carries its boxes along; the others ignore it."""
        if self._flow is not None:
            self._flow.between(image, t)

    def update(self, raw: RawDetections, t: float, image: np.ndarray) -> np.ndarray:
        """Track ids for the rows of `raw`, in its order; -1 where a row belongs to no (confirmed) track."""
        if self._flow is not None:
            return self._flow.update(raw, t, image)
        import supervision as sv

        ids = np.full(len(raw), -1, dtype=int)
        height, width = image.shape[:2]
        # Pixels, not normalised boxes: BoT-SORT's camera-motion compensation moves boxes by a pixel transform.
        scale = np.array([width, height, width, height], dtype=np.float32)
        detections = sv.Detections(
            xyxy=raw.boxes.reshape(-1, 4) * scale,
            confidence=raw.scores,
            class_id=raw.classes,
            data={"row": np.arange(len(raw))},
        )
        with warnings.catch_warnings():
            # A repeated timestamp (a file that reports no position) only skips one motion step.
            warnings.simplefilter("ignore", UserWarning)
            tracked = self._tracker.update(  # type: ignore[attr-defined]
                detections, frame=image if self._needs_frame else None, timestamp=t
            )
        if len(tracked):
            confirmed = tracked.tracker_id >= 0
            # Ids from 1, as people read them in events ("track 1") and as before this tracker.
            ids[tracked.data["row"][confirmed]] = tracked.tracker_id[confirmed] + 1
        return ids

    def reset(self) -> None:
        if self._flow is not None:
            self._flow.reset()
        else:
            self._tracker.reset()  # type: ignore[attr-defined]
