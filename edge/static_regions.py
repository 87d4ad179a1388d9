"""Static-region detection for littering: regions that differ from a long-term background but match a
short-term one appeared and then stayed still.

Both backgrounds are running averages of a small grey image, with time constants in seconds (so they behave
the same at any fps). Lighting is handled three ways: each frame is gain-compensated to the long-term
background's brightness; when a large share of the frame (outside people and vehicles) changes at once, the
backgrounds are rebuilt instead of reporting anything; and a region only counts when its edges changed too
(a shadow or a brightness drift changes grey levels, hardly the gradients). A region where the long-term
background has the edges and the frame does not is a "ghost" (something that left, such as a parked
bicycle or a person who stood still): it is healed into the background. New regions under people, vehicles
or bicycles are never items (a person standing still becomes part of the short-term background).

The backgrounds live in the view the camera had when they started. A camera that drifts or is nudged (moved,
turned or tilted a little) is followed: each frame is carried into that view by the homography
`edge.camera_motion` fits, people's boxes with it, and items are carried back into the frame's coordinates.
A camera moved farther than `MAX_MOVE` (turned by hand, re-pointed) starts over: what the backgrounds learnt
no longer fits the picture once things at different depths have moved against each other (parallax), and
reporting the difference as items would report the whole scene."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from edge.boxes import Box, clip_box, iou
from edge.camera_motion import IDENTITY, CameraMotion, box_through, corner_shift
from edge.litter_zones import LitterZones
from edge.samples import StaticItem
from edge.shrink import shrink
from models.config.rules import LitteringConfig
from models.config.zones import Zone

PROC_WIDTH = 480
"""Working width in pixels: enough for a dropped bag at street scale, cheap on a camera box."""
GRADIENT_THRESHOLD = 6.0
"""Mean change of the gradient magnitude (grey levels per pixel) along a region's outline for it to count."""
MAX_MOVE = 0.05
"""Farthest a corner of the picture may move from where it was when the backgrounds started (a share of the
working width, 24 px at 480) for the camera to be followed; beyond it the backgrounds start over."""
EDGE_PX = 3
"""Pixels along the border of a carried frame that are not trusted (interpolated with the outside)."""
TEXTURE_KEPT = 0.8
"""Correlation of a region with the long-term background above which only the lighting changed."""
PLAIN_STD = 2.0
"""Grey-level spread below which a patch has no texture to correlate."""
COVERED = 0.5
"""A new region this much under people or vehicles is theirs, not an item."""
OCCLUDER_MEMORY_S = 1.0
"""Detectors miss a walking person in some frames; their box keeps covering the ground this long."""
SNAPSHOT_S = 2.0
"""How often a view of the ground is kept for `_new_since_before`."""
SNAPSHOT_HISTORY_S = 90.0
"""How far back those views go: people who stand and chat for longer than this hide the ground from it."""
RECHECK_S = 1.0
"""How often an item is compared again with the ground as it was before it appeared."""
PAD = 3
CLEAR = 0.05
"""A view shows the ground under a region when at most this share of it was under people or vehicles."""


@dataclass
class _Item:
    item_id: int
    box: Box
    first_seen_t: float
    last_seen_t: float
    """Seen, or hidden by people or vehicles: the item is kept `item_hold_s` after this."""
    area: float
    checked_t: float = 0.0
    seen_t: float = 0.0
    """When its region was last found in the frame."""


class StaticRegionDetector:
    def __init__(self, zones: list[Zone], config: LitteringConfig, frame_size: tuple[int, int]) -> None:
        self.config = config.static
        self.zones = LitterZones(zones)
        width, height = frame_size
        scale = min(1.0, PROC_WIDTH / max(width, 1))
        self.size = (max(8, round(width * scale)), max(8, round(height * scale)))
        self._long: np.ndarray | None = None
        self._short: np.ndarray | None = None
        self._fg_since: np.ndarray | None = None
        self._t0 = 0.0
        self._last_t = 0.0
        self._motion = CameraMotion()
        self._items: dict[int, _Item] = {}
        self._recent_occluders: list[tuple[float, Box]] = []
        self._next_id = 1
        self._views: deque[tuple[float, np.ndarray, np.ndarray]] = deque()
        """(time, grey frame in the reference view, where people or vehicles covered it), every SNAPSHOT_S."""
        self.camera_shifts = 0
        """Frames seen from a camera that had drifted or been nudged, carried into the backgrounds' view."""
        self.rebuilds = 0
        """How often a sudden change of the whole scene made the backgrounds start over."""
        self.pinned: frozenset[int] = frozenset()
        """Items followed after a littering event (edge.item_follow): never absorbed into the background nor dropped
        for want of an old view to compare with, and held `follow_grace_s` after their place stops showing them,
        so that one that goes from this list has been taken away."""
        self.pinned_hold_s = config.follow_grace_s

    def update(self, frame_bgr: np.ndarray, t: float, occluders: list[Box]) -> tuple[StaticItem, ...]:
        """Items present in this frame; `occluders` are normalised boxes of people, vehicles and bicycles."""
        gray = self._prepare(frame_bgr)
        if self._long is None or self._short is None or self._fg_since is None:
            self._start(gray, t)
            return ()
        dt = max(0.0, t - self._last_t)
        self._last_t = t
        cfg = self.config
        to_view = self._motion.to_reference(gray, self._long, t)
        if to_view is None or corner_shift(to_view, *self.size) > MAX_MOVE * self.size[0]:
            # turned or carried away (or nothing matches any more): what was learnt no longer fits, start over
            self.rebuilds += 1
            self._start(gray, t)
            return ()
        shown = np.ones(gray.shape, bool)
        if to_view is not IDENTITY:
            self.camera_shifts += 1
            gray, shown = self._carry(gray, to_view)
            occluders = [box_through(to_view, box, self.size) for box in occluders]
        self._recent_occluders = [(at, box) for at, box in self._recent_occluders if t - at <= OCCLUDER_MEMORY_S]
        self._recent_occluders += [(t, box) for box in occluders]
        occluded = self._box_mask([box for _, box in self._recent_occluders])
        gray *= float(self._long[shown].mean()) / max(float(gray[shown].mean()), 1e-3)
        fg_long = (np.abs(gray - self._long) > cfg.diff_threshold) & shown
        free = ~occluded & shown
        if free.any() and float(fg_long[free].mean()) > cfg.max_changed_fraction:
            self.rebuilds += 1
            self._start(self._prepare(frame_bgr), t)
            return ()
        self._short += np.where(shown, _rate(dt, cfg.background_short_s), 0.0).astype(np.float32) * (gray - self._short)
        still = fg_long & (np.abs(gray - self._short) <= cfg.diff_threshold)
        self._fg_since = np.where(shown, np.where(fg_long, np.minimum(self._fg_since, t), np.inf), self._fg_since)
        if not self._views or t - self._views[-1][0] >= SNAPSHOT_S:
            self._views.append((t, gray.astype(np.uint8), occluded | ~shown))
            while self._views and self._views[0][0] < t - SNAPSHOT_HISTORY_S:
                self._views.popleft()
        warm = t - self._t0 >= cfg.warmup_s
        protected = ~shown
        if warm:
            self._track_regions(gray, still, occluded | ~shown, t)
            for item in self._items.values():
                x1, y1, x2, y2 = self._pixels(item.box, pad=2)
                protected[y1:y2, x1:x2] = True
        long_rate = _rate(dt, cfg.background_long_s if warm else cfg.background_short_s)
        self._long += np.where(protected, 0.0, long_rate).astype(np.float32) * (gray - self._long)
        return tuple(self._in_frame(to_view))

    # -- internals -----------------------------------------------------------------------------------------

    def _carry(self, gray: np.ndarray, to_view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The frame carried into the reference view, and where in that view it has pixels (less a border that
        was interpolated with the outside)."""
        size = self.size
        moved = cv2.warpPerspective(gray, to_view, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        inside = cv2.warpPerspective(np.ones(gray.shape, np.uint8), to_view, size, flags=cv2.INTER_NEAREST)
        inside = cv2.erode(inside, np.ones((2 * EDGE_PX + 1, 2 * EDGE_PX + 1), np.uint8))
        return moved, inside.astype(bool)

    def _in_frame(self, to_view: np.ndarray) -> list[StaticItem]:
        """The items, with boxes carried into the frame's coordinates."""
        to_frame = None if to_view is IDENTITY else np.linalg.inv(to_view)
        out = []
        for i in self._items.values():
            box = i.box if to_frame is None else clip_box(box_through(to_frame, i.box, self.size))
            out.append(
                StaticItem(item_id=i.item_id, box=box, first_seen_t=i.first_seen_t, area=i.area, last_seen_t=i.seen_t)
            )
        return out

    def _prepare(self, frame_bgr: np.ndarray) -> np.ndarray:
        small = shrink(frame_bgr, self.size)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        return cv2.GaussianBlur(gray, (5, 5), 0).astype(np.float32)

    def _start(self, gray: np.ndarray, t: float) -> None:
        self._long, self._short = gray.copy(), gray.copy()
        self._fg_since = np.full(gray.shape, np.inf, np.float64)
        self._t0 = self._last_t = t
        self._items.clear()
        self._recent_occluders = []
        self._views.clear()
        self._motion.forget()

    def _pixels(self, box: Box, pad: int = 0) -> tuple[int, int, int, int]:
        w, h = self.size
        return (
            max(0, math.floor(box[0] * w) - pad),
            max(0, math.floor(box[1] * h) - pad),
            min(w, math.ceil(box[2] * w) + pad),
            min(h, math.ceil(box[3] * h) + pad),
        )

    def _box_mask(self, boxes: list[Box]) -> np.ndarray:
        mask = np.zeros((self.size[1], self.size[0]), bool)
        for box in boxes:
            x1, y1, x2, y2 = self._pixels(box)
            mask[y1:y2, x1:x2] = True
        return mask

    def _track_regions(self, gray: np.ndarray, still: np.ndarray, occluded: np.ndarray, t: float) -> None:
        assert self._long is not None and self._fg_since is not None
        cfg = self.config
        w, h = self.size
        opened = cv2.morphologyEx(still.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        mask = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        seen: set[int] = set()
        grad_now = grad_long = None
        for label in range(1, count):
            x, y, bw, bh, area = (int(v) for v in stats[label])
            share = area / float(w * h)
            if not cfg.min_item_area <= share <= cfg.max_item_area:
                continue
            box = (x / w, y / h, (x + bw) / w, (y + bh) / h)
            match = self._match(box)
            component = labels[y : y + bh, x : x + bw] == label
            if match is not None and match.item_id not in self.pinned and t - match.checked_t >= RECHECK_S:
                match.checked_t = t
                if not self._new_since_before((x, y, bw, bh), component, gray, match.first_seen_t):
                    # What is there now is the ground as it was before: whatever made the item has gone, and
                    # the background had learnt people who stood there. Forget both.
                    del self._items[match.item_id]
                    self._heal((x, y, bw, bh), component, gray)
                    continue
            if match is not None:
                match.box, match.last_seen_t, match.seen_t, match.area = box, t, t, share
                seen.add(match.item_id)
                continue
            if float(occluded[y : y + bh, x : x + bw][component].mean()) >= COVERED or self.zones.zone_of(box) is None:
                continue
            if x <= 0 or y <= 0 or x + bw >= w or y + bh >= h:
                # Cut by the edge of the picture: part of something larger outside it (most often a person
                # walking in or out, whose box the detector does not give while it is cut), not an item.
                continue
            if grad_now is None or grad_long is None:
                grad_now, grad_long = _gradient(gray), _gradient(self._long)
            window = (slice(y, y + bh), slice(x, x + bw))
            verdict = _edge_verdict(component, gray[window], self._long[window], grad_now[window], grad_long[window])
            if verdict == "ghost":
                self._heal((x, y, bw, bh), component, gray)
                continue
            if verdict == "object":
                since = self._fg_since[y : y + bh, x : x + bw][component]
                first = float(np.median(since[np.isfinite(since)])) if np.isfinite(since).any() else t
                if not self._new_since_before((x, y, bw, bh), component, gray, first):
                    # The ground as it was before anyone stood there: the background had learnt people who
                    # stood still (or their shadows), and what came back when they left is no new thing.
                    self._heal((x, y, bw, bh), component, gray)
                    continue
                item = _Item(self._next_id, box, min(first, t), t, share, checked_t=t, seen_t=t)
                self._items[item.item_id] = item
                self._next_id += 1
                seen.add(item.item_id)
        for item_id in [i for i in self._items if i not in seen]:
            item = self._items[item_id]
            x1, y1, x2, y2 = self._pixels(item.box)
            hidden = occluded[y1:y2, x1:x2].mean() >= COVERED if y2 > y1 and x2 > x1 else False
            if hidden:
                item.last_seen_t = t
            elif t - item.last_seen_t > (self.pinned_hold_s if item_id in self.pinned else cfg.item_hold_s):
                del self._items[item_id]
        absorbed = [
            i for i, item in self._items.items() if t - item.first_seen_t > cfg.absorb_s and i not in self.pinned
        ]
        for item_id in absorbed:
            x1, y1, x2, y2 = self._pixels(self._items.pop(item_id).box, pad=2)
            self._long[y1:y2, x1:x2] = gray[y1:y2, x1:x2]

    def _heal(self, region: tuple[int, int, int, int], component: np.ndarray, gray: np.ndarray) -> None:
        """Take the region's pixels as they are now into the long-term background: it is the ground."""
        assert self._long is not None
        x, y, bw, bh = region
        self._long[y : y + bh, x : x + bw][component] = gray[y : y + bh, x : x + bw][component]

    def _new_since_before(
        self, region: tuple[int, int, int, int], component: np.ndarray, gray: np.ndarray, first: float
    ) -> bool:
        """Whether the region (x, y, width, height in working pixels) brings edges or texture that the ground did
        not have in any kept view from before `first` in which nothing covered it. One clear view that already
        looked like this is enough to say it was there before (people stood in front of it while the background
        learnt), and with no clear view at all (people stood over it all along, or the camera has only just
        started) nothing shows that it is new, so it is not taken."""
        x, y, bw, bh = region
        height, width = gray.shape
        # Gradients on the region with a margin, so that the window's border does not count as an edge.
        y0, y1, x0, x1 = max(0, y - PAD), min(height, y + bh + PAD), max(0, x - PAD), min(width, x + bw + PAD)
        inner = (slice(y - y0, y - y0 + bh), slice(x - x0, x - x0 + bw))
        now = gray[y0:y1, x0:x1]
        grad_now = _gradient(now)[inner]
        clear = [
            view[y0:y1, x0:x1].astype(np.float32)
            for at, view, covered in self._views
            if at <= first - SNAPSHOT_S and float(covered[y : y + bh, x : x + bw][component].mean()) <= CLEAR
        ]
        for before in clear:
            if _edge_verdict(component, now[inner], before[inner], grad_now, _gradient(before)[inner]) != "object":
                return False
        return bool(clear)

    def _match(self, box: Box) -> _Item | None:
        best, best_iou = None, 0.3
        for item in self._items.values():
            overlap = iou(box, item.box)
            if overlap >= best_iou:
                best, best_iou = item, overlap
        return best


def _rate(dt: float, tau: float) -> float:
    """Blend factor of a running average with time constant `tau` after `dt` seconds."""
    return 1.0 - math.exp(-dt / tau) if tau > 0 else 1.0


def _gradient(gray: np.ndarray) -> np.ndarray:
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    return cv2.magnitude(gx, gy) / 4.0


def _edge_verdict(
    component: np.ndarray, now: np.ndarray, before: np.ndarray, grad_now: np.ndarray, grad_before: np.ndarray
) -> str:
    """'object' when the region brought new edges or new texture, 'ghost' when it took edges away, 'flat'
    when the texture is the same under a new brightness (a shadow, a lamp, a cloud)."""
    ring = cv2.dilate(component.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    edges_now, edges_before = grad_now[ring], grad_before[ring]
    texture_kept = _correlation(now[ring], before[ring]) >= TEXTURE_KEPT
    if float(np.abs(edges_now - edges_before).mean()) < GRADIENT_THRESHOLD and texture_kept:
        return "flat"
    return "object" if float(edges_now.mean()) >= float(edges_before.mean()) else "ghost"


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised cross-correlation: near 1 when b is a's pattern under other lighting. Two plain patches
    count as the same pattern, a plain and a textured one as different."""
    plain_a, plain_b = float(a.std()) < PLAIN_STD, float(b.std()) < PLAIN_STD
    if plain_a or plain_b:
        return 1.0 if plain_a and plain_b else 0.0
    a, b = a - a.mean(), b - b.mean()
    scale = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / scale if scale > 0 else 1.0
