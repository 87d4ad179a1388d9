"""Evidence for one infraction: a few redacted JPEG keyframes and a short redacted WebM (VP8) clip that
a browser plays, each file named by its sha256; for littering also the item's spot before and after.

Everything here is cut from the `FrameRing`, which only ever holds redacted frames. Keyframes and clip are those
frames as filmed: nothing is drawn on them. The zone, the track and the item travel in the message (schema /2)
and the console draws them as layers a reviewer can switch off, so a drawing never hides what was filmed."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from edge.frame_ring import BufferedFrame, FrameRing, downscale
from edge.rules.base import RuleHit
from models.infraction import EvidenceRef

log = logging.getLogger(__name__)

KEYFRAMES = 4
CLIP_LEAD_S = 1.0
"""Seconds of video kept before the infraction starts, so the clip shows how it began."""
MAX_CLIP_S = 10.0
MAX_CLIP_FPS = 6.0
CLIP_MAX_WIDTH = 480
"""Clips are thinned and shrunk: enough to see what happened, cheap to encode (VP8 costs ~40 ms a 640 px
frame on a small CPU, ~17 ms at 480 px)."""
ITEM_COLOUR = (0, 255, 255)
"""The item's outline in its before/after picture, a crop the console draws nothing over."""
ITEM_CROP_PX = 240
"""Side of each half of a littering item's before/after picture."""
ITEM_CROP_CONTEXT = 4.0
"""The crop spans this many times the item's size, so the ground around it shows too."""
ITEM_CROP_MIN_PX = 48
BEFORE_ITEM_S = 0.5
"""The "before" half is a remembered frame at least this long before the item appeared."""


PARTIAL_PREFIX = ".incoming-"
"""Evidence being written; renamed to its sha256 name only once complete."""


def store(directory: Path, data: bytes, suffix: str) -> tuple[str, Path]:
    """Write bytes as `{sha256}{suffix}` atomically; the same bytes land in the same file."""
    digest = hashlib.sha256(data).hexdigest()
    target = directory / f"{digest}{suffix}"
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=PARTIAL_PREFIX)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # after a power cut the renamed file has its bytes, not zero length
        os.replace(tmp, target)
    return digest, target


def remove_partial(directory: Path) -> int:
    """Delete what a killed process left half-written in its evidence folder (call before writing to it;
    one camera process owns one folder). Returns how many files went."""
    removed = 0
    for path in Path(directory).glob(f"{PARTIAL_PREFIX}*"):
        path.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.warning("%s: removed %d half-written evidence files of an earlier run", directory, removed)
    return removed


def pick_keyframes(hit: RuleHit, ring: FrameRing, count: int = KEYFRAMES) -> list[BufferedFrame]:
    """The rule's own key frames when it named them, else frames spread evenly over the infraction."""
    wanted = list(hit.key_frames)
    if len(wanted) < 3:
        span = max(hit.frame_end - hit.frame_start, 0)
        wanted = [hit.frame_start + round(span * i / (count - 1)) for i in range(count)]
    chosen: dict[int, BufferedFrame] = {}
    for index in wanted[:5]:
        frame = ring.nearest(index)
        if frame is not None:
            chosen[frame.index] = frame
    return [chosen[i] for i in sorted(chosen)]


def item_before_after(hit: RuleHit, ring: FrameRing) -> np.ndarray | None:
    """The spot of a littering item before it appeared and at the end, side by side and enlarged, so a reviewer
    sees at a glance whether a thing lies there. None without an item or without a frame from before it."""
    last = ring.last()
    if hit.item_box is None or last is None:
        return None
    before = [f for f in ring.between(0, last.index) if f.t <= hit.t_start - BEFORE_ITEM_S]
    if not before:
        return None
    crops = []
    # The oldest remembered frame: the longer before the drop, the likelier the owner had not yet reached the spot.
    for frame, label in ((before[0], "before"), (last, "after")):
        image = frame.image()
        height, width = image.shape[:2]
        x1, y1, x2, y2 = hit.item_box
        cx, cy = (x1 + x2) / 2.0 * width, (y1 + y2) / 2.0 * height
        half = max(ITEM_CROP_MIN_PX, ITEM_CROP_CONTEXT * max((x2 - x1) * width, (y2 - y1) * height)) / 2.0
        left, top = int(max(0, min(width - 1, cx - half))), int(max(0, min(height - 1, cy - half)))
        right, bottom = int(min(width, max(left + 1, cx + half))), int(min(height, max(top + 1, cy + half)))
        crop = cv2.resize(image[top:bottom, left:right], (ITEM_CROP_PX, ITEM_CROP_PX), interpolation=cv2.INTER_CUBIC)
        scale_x, scale_y = ITEM_CROP_PX / (right - left), ITEM_CROP_PX / (bottom - top)
        corner = (round((x1 * width - left) * scale_x), round((y1 * height - top) * scale_y))
        far = (round((x2 * width - left) * scale_x), round((y2 * height - top) * scale_y))
        cv2.rectangle(crop, corner, far, ITEM_COLOUR, 1)
        cv2.putText(crop, label, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2, cv2.LINE_AA)
        crops.append(crop)
    return np.hstack([crops[0], np.full((ITEM_CROP_PX, 4, 3), 255, np.uint8), crops[1]])


def thin(frames: list[BufferedFrame], max_fps: float) -> list[BufferedFrame]:
    """Drop frames so that no two kept ones are closer than 1/max_fps seconds."""
    kept: list[BufferedFrame] = []
    for frame in frames:
        if not kept or frame.t - kept[-1].t >= 1.0 / max_fps - 1e-6:
            kept.append(frame)
    return kept


WEBM_TAG_NOTICE = re.compile(
    rb"OpenCV: FFMPEG: tag 0x[0-9a-f]{8}/'VP80' is not supported with codec id \d+ and format 'webm / WebM'\r?\n"
)
"""OpenCV checks the fourcc against the muxer's list of tags, and FFmpeg's WebM muxer lists none, so every
spelling of VP8 is "not supported" although the file is written as VP8 all the same: a false alarm."""
_stderr_lock = threading.Lock()


@contextmanager
def without_webm_tag_notice() -> Iterator[None]:
    """Keep OpenCV's WebM tag notice off stderr (it is printed by C, past Python's sys.stderr); anything else
    written to stderr meanwhile, by any thread, is passed on once the block ends."""
    with _stderr_lock, tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            rest = WEBM_TAG_NOTICE.sub(b"", captured.read())
            if rest:
                os.write(2, rest)


def encode_webm(frames: list[np.ndarray], fps: float) -> bytes:
    """VP8 in WebM: what OpenCV here can write that every browser plays (H.264 is not available)."""
    height, width = frames[0].shape[:2]
    with tempfile.TemporaryDirectory(prefix="curbwatch-clip-") as tmp:
        path = Path(tmp) / "clip.webm"
        with without_webm_tag_notice():
            writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"VP80"), max(1.0, fps), (width, height))
        if not writer.isOpened():
            raise RuntimeError("OpenCV cannot write VP8/WebM on this machine")
        for frame in frames:
            writer.write(frame)
        writer.release()
        return path.read_bytes()


class EvidenceWriter:
    def __init__(self, directory: Path, jpeg_quality: int = 88) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.jpeg_quality = jpeg_quality

    def build(self, hit: RuleHit, ring: FrameRing) -> list[tuple[EvidenceRef, Path]]:
        out: list[tuple[EvidenceRef, Path]] = []
        pair = item_before_after(hit, ring)
        images = [] if pair is None else [("item_crop", pair)]
        images += [("keyframe", frame.image()) for frame in pick_keyframes(hit, ring)]
        for role, image in images:
            ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if ok:
                digest, path = store(self.directory, data.tobytes(), ".jpg")
                out.append((EvidenceRef(sha256=digest, media_type="image/jpeg", role=role), path))
        clip = self._clip(hit, ring)
        if clip is not None:
            out.append(clip)
        return out

    def _clip(self, hit: RuleHit, ring: FrameRing) -> tuple[EvidenceRef, Path] | None:
        last = ring.last()
        if last is None:
            return None
        first_t = max(hit.t_start - CLIP_LEAD_S, last.t - MAX_CLIP_S)
        frames = thin([f for f in ring.between(0, last.index) if f.t >= first_t], MAX_CLIP_FPS)
        if len(frames) < 2:
            return None
        duration = max(frames[-1].t - frames[0].t, 1e-3)
        fps = (len(frames) - 1) / duration
        images = [downscale(f.image(), CLIP_MAX_WIDTH) for f in frames]
        try:
            data = encode_webm(images, fps)
        except RuntimeError as exc:
            log.warning("event %s: no clip: %s", hit.type, exc)
            return None
        digest, path = store(self.directory, data, ".webm")
        return EvidenceRef(sha256=digest, media_type="video/webm", role="clip"), path
