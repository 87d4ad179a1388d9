"""The annotated replay video: redacted frames with zones, boxes, track ids and recent events drawn on.

The container follows the file name: .mp4 (mp4v), .avi (MJPG) or .webm (VP8)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edge.drawing import draw_zone, to_pixels
from edge.samples import Detection
from models.config.zones import Zone
from models.errors import InputError
from models.geometry import point_in_polygon
from models.infraction import InfractionMessage

FOURCC_BY_SUFFIX = {".mp4": "mp4v", ".avi": "MJPG", ".webm": "VP80"}
EVENT_BANNER_S = 3.0
PERSON_COLOUR = (0, 200, 0)
OTHER_COLOUR = (255, 160, 0)


class AnnotationError(InputError):
    """An --annotate file that cannot be written: the wrong suffix, or a folder that cannot be made."""


class Annotator:
    def __init__(self, path: Path, zones: list[Zone], fps: float, size: tuple[int, int]) -> None:
        self.path = Path(path)
        fourcc = FOURCC_BY_SUFFIX.get(self.path.suffix.lower())
        if fourcc is None:
            raise AnnotationError(
                f"--annotate {path}: use a .mp4, .avi or .webm file name (got {self.path.suffix or 'none'})"
            )
        if self.path.parent != Path(""):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter.fourcc(*fourcc), fps or 25.0, size)
        if not self._writer.isOpened():
            raise AnnotationError(f"--annotate {path}: OpenCV cannot write {fourcc} video here")
        self.size = size
        self.zones = zones
        self._recent: list[tuple[float, str]] = []
        self._mask: np.ndarray | None = None

    def write(
        self, redacted: np.ndarray, t: float, detections: tuple[Detection, ...], events: list[InfractionMessage]
    ) -> None:
        image = redacted if redacted.shape[1::-1] == self.size else cv2.resize(redacted, self.size)
        image = image.copy()
        height, width = image.shape[:2]
        for zone in self.zones:
            draw_zone(image, zone, 1)
        blocks = image.copy()
        for det in detections:
            if self._private(det):
                continue
            (x1, y1), (x2, y2) = to_pixels([det.box[:2], det.box[2:]], width, height)
            colour = PERSON_COLOUR if det.cls == "person" else OTHER_COLOUR
            cv2.rectangle(image, (int(x1), int(y1)), (int(x2), int(y2)), colour, 1)
            label = det.cls if det.track_id is None else f"{det.cls} #{det.track_id}"
            cv2.putText(image, label, (int(x1), max(10, int(y1) - 3)), cv2.FONT_HERSHEY_SIMPLEX, 0.4, colour, 1)
        self._recent += [(t, f"{m.type} track {m.track.id} in {m.zone}") for m in events]
        self._recent = [(at, text) for at, text in self._recent if t - at <= EVENT_BANNER_S]
        for row, (_, text) in enumerate(self._recent):
            y = 24 + 22 * row
            cv2.putText(image, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 4, cv2.LINE_AA)
            cv2.putText(image, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 255), 2, cv2.LINE_AA)
        # A box or label of someone beside a privacy zone reaches into it; there the blocks show and nothing else.
        private = self._private_mask(width, height)
        cv2.copyTo(blocks, private, image)
        self._writer.write(image)

    def _private_mask(self, width: int, height: int) -> np.ndarray:
        if self._mask is None or self._mask.shape != (height, width):
            mask = np.zeros((height, width), np.uint8)
            for zone in self.zones:
                if zone.kind == "privacy":
                    cv2.fillPoly(mask, [to_pixels(list(zone.polygon), width, height)], 1)
            self._mask = mask
        return self._mask

    def _private(self, det: Detection) -> bool:
        """Whether a detection stands in a privacy zone: those places show blocks only, with nothing drawn over
        them (a labelled box would say who is there, and its lines bring back the detail the blocks took away)."""
        return any(zone.kind == "privacy" and point_in_polygon(det.foot, zone.polygon) for zone in self.zones)

    def close(self) -> None:
        self._writer.release()
