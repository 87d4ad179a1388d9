"""Tracks that keep their identities between detections (DESIGN.md section 3, issue 21).

The detector runs a few times a second, but every frame is decoded. Between two detections each live track's
box is carried along by sparse optical flow (Lucas-Kanade on a small grid of points inside the box, checked
forwards and backwards), so at the next detection a walker's predicted box lies where the walker now is, not
where a constant-velocity guess from a fifth of a second ago puts them: two people walking side by side or
passing each other are then told apart by overlap with their own boxes.

Association is ByteTrack's two stages (strong detections first, then weak ones for tracks that already exist),
by overlap with the carried box, inside a gate measured in body heights and seconds: a detection whose feet are
further from a track's than a person can walk in the time since that track was last seen never continues it,
whatever the overlap says. Such a jump starts a new track: two people are split, never joined.

Motion and boxes only: no appearance of anyone is kept or compared (DESIGN.md section 6)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from edge.boxes import bottom_centre
from edge.detect.yolo_io import RawDetections
from edge.rules.people import WALK_BH_PER_S, reach
from edge.shrink import shrink

PARTIAL_HEIGHT = 1.25
"""A detection this much shorter or taller than the last is a part of the person (or the rest coming back): its
feet say nothing of their walk."""
HEIGHT_RATIO = 1.3
"""A detection more than this many times taller or shorter than the track's last box, plus HEIGHT_RATIO_PER_S for
each second since, is someone else (or a part of someone): walking towards the lens does not change a person's
height faster."""
HEIGHT_RATIO_PER_S = 0.5
NEAREST_S = 0.4
"""A track lost for up to this long may take the nearest leftover detection within reach (a walker back from
behind another after a few detections); one lost longer, only a detection overlapping where it should be."""
FLOW_WIDTH = 640
"""Frames wider than this are scaled down to it for the optical flow: far walkers 20 px tall stay 10 px tall or
more at the resolutions cameras send."""
GRID = (3, 5)
"""Points per box for the flow (columns, rows), on the body's middle where the background shows least."""
MIN_FLOW_POINTS = 3
FORWARD_BACKWARD_PX = 1.0
"""A point whose flow, run back, lands further than this from where it started is not trusted."""
FLOW_STEP_S = 1.0 / 15.0
"""Least source time between two flow steps (every other frame at 30 fps): more often costs CPU and adds nothing at
walking speed."""
FLOW_MARGIN_PX = 48
"""Pixels around the tracks' points that the flow looks at: more than anyone walks in a flow step, plus the
Lucas-Kanade window at the coarsest level of its pyramid."""
LK_WINDOW = (15, 15)
LK_LEVELS = 3
LK_STOP = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)


@dataclass
class _Track:
    cls: int
    """The class of the detection that started it: a person's track never continues on a car's box."""
    box: np.ndarray
    """x1, y1, x2, y2 normalised: the last detection's box, carried along by flow since."""
    seen_t: float
    """When a detection last matched it."""
    seen_box: np.ndarray
    """That detection's box."""
    velocity: np.ndarray
    """The box's shift per second (x, y, x, y), from the feet of the detections that matched it."""
    moved_t: float
    """The time `box` stands for (the last detection, or the last flow step)."""
    track_id: int = -1
    """-1 until a second detection confirms it (one stray box makes no track)."""

    def predicted(self, t: float) -> np.ndarray:
        return self.box + self.velocity * max(0.0, t - self.moved_t)


class FlowTracker:
    """One camera's tracks. `lost_s` is how long a track that no detection matched is kept; `activation` the least
    score that starts one; `min_iou` the least overlap of a detection with a track's carried box."""

    def __init__(self, lost_s: float, activation: float, min_iou: float, carried: frozenset[int] | None = None) -> None:
        """`carried`: the class ids whose boxes are moved by flow between detections (None: every class). The
        others (cars at an intersection) are predicted by their velocity alone: the rules follow people, and the
        flow's cost grows with the part of the frame the carried boxes span."""
        self.lost_s = lost_s
        self.activation = activation
        self.min_iou = min_iou
        self.carried = carried
        self.reset()

    def reset(self) -> None:
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._gray: np.ndarray | None = None
        self._gray_t = -np.inf
        self._detected_t = -np.inf

    # -- between detections -----------------------------------------------------------------------------------

    def between(self, image: np.ndarray, t: float) -> None:
        """Carry every track seen at the last detection along the flow from the last frame looked at to this one."""
        if t - self._gray_t < FLOW_STEP_S - 1e-6:
            return
        # Only the tracks the last detection saw: a lost one's place may now show someone else, or a car.
        live = [
            track
            for track in self._tracks
            if track.seen_t == self._detected_t and (self.carried is None or track.cls in self.carried)
        ]
        if not live:
            self._gray = None  # nothing to carry: the next detection starts the flow afresh
            return
        gray = _gray(image)
        if self._gray is not None and self._gray.shape == gray.shape:
            self._carry(live, self._gray, gray, t)
        self._gray, self._gray_t = gray, t

    def _carry(self, tracks: list[_Track], before: np.ndarray, after: np.ndarray, t: float) -> None:
        height, width = before.shape
        scale = np.array([width, height], np.float32)
        grids = [_grid(track.box) for track in tracks]
        points = np.concatenate(grids) * scale
        # The flow is worked out on the part of the frame around the tracks only: its cost grows with the pixels.
        x0, y0 = np.maximum(points.min(axis=0) - FLOW_MARGIN_PX, 0).astype(int)
        x1, y1 = np.minimum(points.max(axis=0) + FLOW_MARGIN_PX, (width, height)).astype(int)
        start = (points - (x0, y0)).astype(np.float32).reshape(-1, 1, 2)
        first, second = before[y0:y1, x0:x1], after[y0:y1, x0:x1]
        moved, status, _ = _flow(first, second, start)
        back, status_back, _ = _flow(second, first, moved)
        good = (status.ravel() == 1) & (status_back.ravel() == 1)
        good &= np.linalg.norm((back - start).reshape(-1, 2), axis=1) <= FORWARD_BACKWARD_PX
        shift = ((moved - start).reshape(-1, 2)) / scale
        offset = 0
        for track, grid in zip(tracks, grids, strict=True):
            rows = slice(offset, offset + len(grid))
            offset += len(grid)
            kept = shift[rows][good[rows]]
            if len(kept) < MIN_FLOW_POINTS:
                continue  # a walker hidden behind a bus: the detection will tell, the velocity guesses meanwhile
            dx, dy = np.median(kept, axis=0)
            track.box = track.box + np.array([dx, dy, dx, dy], np.float32)
            track.moved_t = t

    # -- at a detection ---------------------------------------------------------------------------------------

    def update(self, raw: RawDetections, t: float, image: np.ndarray) -> np.ndarray:
        """Track ids for the rows of `raw`, in its order; -1 where a row belongs to no confirmed track."""
        boxes = raw.boxes.reshape(-1, 4).astype(np.float32)
        scores = raw.scores.astype(np.float32)
        classes = raw.classes.astype(int)
        self._tracks = [track for track in self._tracks if t - track.seen_t <= self.lost_s]
        strong = np.flatnonzero(scores >= self.activation)
        weak = np.flatnonzero(scores < self.activation)
        rows = np.full(len(boxes), -1, dtype=int)
        unmatched = list(range(len(self._tracks)))
        aspect = image.shape[0] / image.shape[1]
        for group in (strong, weak):
            pairs = self._associate([self._tracks[i] for i in unmatched], boxes[group], classes[group], t, aspect)
            for track_row, det_row in pairs:
                rows[group[det_row]] = unmatched[track_row]
            taken = {unmatched[track_row] for track_row, _ in pairs}
            unmatched = [i for i in unmatched if i not in taken]
        # Leftovers whose boxes no longer overlap (a walker back from behind a bus): the nearest feet within reach.
        left = strong[rows[strong] < 0]
        leftovers = [self._tracks[i] for i in unmatched]
        for track_row, det_row in self._nearest(leftovers, boxes[left], classes[left], t, aspect):
            rows[left[det_row]] = unmatched[track_row]
        ids = np.full(len(boxes), -1, dtype=int)
        for det, track_index in enumerate(rows):
            if track_index >= 0:
                ids[det] = self._matched(self._tracks[track_index], boxes[det], t)
        # A track that was still unconfirmed and missed its second detection was one stray box.
        self._tracks = [track for track in self._tracks if track.track_id > 0 or track.seen_t == t]
        for new in strong[rows[strong] < 0]:
            self._tracks.append(_new_track(int(classes[new]), boxes[new], t))
        self._gray, self._gray_t, self._detected_t = _gray(image), t, t
        return ids

    def _associate(
        self, tracks: list[_Track], boxes: np.ndarray, classes: np.ndarray, t: float, aspect: float
    ) -> list[tuple[int, int]]:
        """(track row, detection row) pairs, most overlap first and one to one, inside each track's gate."""
        if not tracks or not len(boxes):
            return []
        predicted = np.array([track.predicted(t) for track in tracks], np.float32)
        overlap = _iou(predicted, boxes)
        overlap[~self._gate(tracks, boxes, classes, t, aspect)] = 0.0
        track_rows, det_rows = linear_sum_assignment(overlap, maximize=True)
        return [(int(r), int(c)) for r, c in zip(track_rows, det_rows, strict=True) if overlap[r, c] >= self.min_iou]

    def _nearest(
        self, tracks: list[_Track], boxes: np.ndarray, classes: np.ndarray, t: float, aspect: float
    ) -> list[tuple[int, int]]:
        """(track row, detection row) pairs by the distance of the detection's feet from the track's predicted feet,
        in the track's reach, one to one: the closest first."""
        if not tracks or not len(boxes):
            return []
        predicted = np.array([track.predicted(t) for track in tracks], np.float32)
        seen = np.array([track.seen_box for track in tracks], np.float32)
        elapsed = np.array([t - track.seen_t for track in tracks], np.float32)[:, None]
        share = _apart(predicted, boxes, aspect) / reach(seen[:, 3:4] - seen[:, 1:2], elapsed, WALK_BH_PER_S)
        share[~self._gate(tracks, boxes, classes, t, aspect)] = np.inf
        # Longer gone, someone else is as likely to be there: only the overlap stages may take the track up again.
        share[elapsed[:, 0] > NEAREST_S, :] = np.inf
        track_rows, det_rows = linear_sum_assignment(np.where(np.isfinite(share), share, 1e6))
        return [(int(r), int(c)) for r, c in zip(track_rows, det_rows, strict=True) if np.isfinite(share[r, c])]

    @staticmethod
    def _gate(tracks: list[_Track], boxes: np.ndarray, classes: np.ndarray, t: float, aspect: float) -> np.ndarray:
        """Which detections each track may take: of its class, feet within walking reach of where the track was last
        seen, and a box of about its height. Measured in the track's body heights, so near and far people are judged
        alike."""
        seen = np.array([track.seen_box for track in tracks], np.float32)
        heights = (seen[:, 3] - seen[:, 1])[:, None]
        elapsed = np.array([t - track.seen_t for track in tracks], np.float32)[:, None]
        within = _apart(seen, boxes, aspect) <= reach(heights, elapsed, WALK_BH_PER_S)
        ratio = np.maximum(boxes[:, 3] - boxes[:, 1], 1e-6)[None, :] / np.maximum(heights, 1e-6)
        same = np.array([track.cls for track in tracks])[:, None] == classes[None, :]
        limit = HEIGHT_RATIO + HEIGHT_RATIO_PER_S * elapsed
        return same & within & (ratio <= limit) & (ratio >= 1.0 / limit)

    def _matched(self, track: _Track, box: np.ndarray, t: float) -> int:
        elapsed = t - track.seen_t
        seen_height, height = track.seen_box[3] - track.seen_box[1], box[3] - box[1]
        # A box cut short by someone in front (or grown back) moves its feet without any walking.
        whole = 1.0 / PARTIAL_HEIGHT <= height / max(seen_height, 1e-6) <= PARTIAL_HEIGHT
        if elapsed > 0 and whole:
            (fx, fy), (sx, sy) = bottom_centre(tuple(box)), bottom_centre(tuple(track.seen_box))
            walked = np.array([fx - sx, fy - sy, fx - sx, fy - sy], np.float32) / elapsed
            track.velocity = 0.5 * track.velocity + 0.5 * walked
        track.box, track.seen_box = box.copy(), box.copy()
        track.seen_t, track.moved_t = t, t
        if track.track_id < 0:
            track.track_id = self._next_id
            self._next_id += 1
        return track.track_id


def _new_track(cls: int, box: np.ndarray, t: float) -> _Track:
    return _Track(cls=cls, box=box.copy(), seen_t=t, seen_box=box.copy(), velocity=np.zeros(4, np.float32), moved_t=t)


def _apart(tracks: np.ndarray, boxes: np.ndarray, aspect: float) -> np.ndarray:
    """How far the feet of each of `boxes` are from those of each of `tracks`' boxes, in frame heights (the unit of
    the boxes' heights, so that reach in body heights compares): rows are tracks, columns boxes."""

    def feet(of: np.ndarray) -> np.ndarray:
        return np.stack([(of[:, 0] + of[:, 2]) / 2, of[:, 3]], axis=1)

    offset = feet(boxes)[None, :, :] - feet(tracks)[:, None, :]
    return np.hypot(offset[:, :, 0] / aspect, offset[:, :, 1])


def _flow(before: np.ndarray, after: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where `points` of `before` are in `after`, whether each was found, and its error (Lucas-Kanade)."""
    moved, found, error = cv2.calcOpticalFlowPyrLK(
        before, after, points, np.empty_like(points), winSize=LK_WINDOW, maxLevel=LK_LEVELS, criteria=LK_STOP
    )
    return np.asarray(moved), np.asarray(found), np.asarray(error)


def _gray(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    if width > FLOW_WIDTH:
        image = shrink(image, (FLOW_WIDTH, round(height * FLOW_WIDTH / width)))
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def _grid(box: np.ndarray) -> np.ndarray:
    """GRID points over the middle of a box (from a fifth to four fifths of its height, the middle half of its
    width): the torso and legs, where a person's own pixels are."""
    columns, rows = GRID
    xs = box[0] + (box[2] - box[0]) * np.linspace(0.3, 0.7, columns)
    ys = box[1] + (box[3] - box[1]) * np.linspace(0.2, 0.8, rows)
    return np.array([(x, y) for y in ys for x in xs], np.float32)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Overlap over union of every box of `a` with every box of `b`."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
