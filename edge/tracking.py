"""Tracking without torch: the flow tracker (`edge.flow_tracking`, the default), which carries boxes through the
frames between detections, or Roboflow's `trackers` (ByteTrack, OC-SORT, BoT-SORT without re-identification),
fed the detector's boxes with their source timestamps, so a lost track is kept for a time in seconds and
the motion model steps by the real gap between two detections, whatever the detection rate.

No appearance features are used by any of them (DESIGN.md section 6): boxes, scores and motion only."""

from __future__ import annotations

import warnings
from typing import Protocol

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


class Tracker(Protocol):
    """One camera's tracks, whichever kind."""

    def between(self, image: np.ndarray, t: float) -> None:
        """A frame the detector skips."""
        ...

    def update(self, raw: RawDetections, t: float, image: np.ndarray) -> np.ndarray:
        """Track ids for the rows of `raw`, in its order; -1 where a row belongs to no (confirmed) track."""
        ...

    def reset(self) -> None: ...


def open_tracker(kind: str, rate: float, carried: frozenset[int] | None = None) -> Tracker:
    """`flow` (edge.flow_tracking), or one of Roboflow's; `rate` is the nominal detections per second. `carried`:
    the class ids whose boxes the flow tracker moves between detections (None: all)."""
    if kind == "flow":
        return FlowTracker(LOST_TRACK_S, ACTIVATION_SCORE, MIN_IOU, carried)
    return RoboflowTracker(kind, rate)


class RoboflowTracker:
    """ByteTrack, OC-SORT or BoT-SORT from `trackers`; `rate` is the motion model's unit step in detections a
    second. They see the detections only."""

    def __init__(self, kind: str, rate: float) -> None:
        self.kind = kind
        self._tracker = _build(kind, rate)
        self._needs_frame = kind == "botsort"  # its camera-motion compensation looks at the frame

    def between(self, image: np.ndarray, t: float) -> None:
        """Nothing to do: these trackers step their motion model by the time between detections."""

    def update(self, raw: RawDetections, t: float, image: np.ndarray) -> np.ndarray:
        """Track ids for the rows of `raw`, in its order; -1 where a row belongs to no (confirmed) track."""
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
        self._tracker.reset()  # type: ignore[attr-defined]
