"""The editor's test replay: the first seconds of a source through the real pipeline with a drafted camera
config, in a background thread, one at a time per console. What comes back is geometry and events only
(each track's foot-point path, normalised), never a pixel: the page draws them over its redacted frame."""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from central.console.zone_editor.frames import DetectorBusy, EditorDetector
from models.config.camera import CameraConfig
from models.errors import UnavailableError
from models.infraction import InfractionMessage

if TYPE_CHECKING:
    from edge.preview import FrameSample

log = logging.getLogger(__name__)

FALLBACK_FPS = 25.0
"""For a source that states no frame rate (some streams)."""
MAX_POINTS_PER_TRACK = 400
COORDINATE_DECIMALS = 4


class ReplayBusy(UnavailableError):
    """A test replay is already running in this console."""


@dataclass
class TrackPath:
    cls: str
    points: list[tuple[int, float, float]] = field(default_factory=list)
    """(frame index, foot x, foot y), normalised."""

    def point_at(self, frame: int) -> tuple[float, float] | None:
        """The foot position at `frame`, or at the nearest frame before it the track was seen."""
        seen = [(x, y) for index, x, y in self.points if index <= frame]
        return seen[-1] if seen else (self.points[0][1:] if self.points else None)


class PathCollector:
    """A FrameObserver: the foot point of every tracked detection on frames the detector ran on."""

    def __init__(self) -> None:
        self.paths: dict[int, TrackPath] = {}
        self.frames = 0

    def observe(self, sample: FrameSample, messages: list[InfractionMessage]) -> None:
        self.frames = sample.index + 1
        if not sample.detected:
            return  # stride-skipped frames repeat the last boxes
        for detection in sample.detections:
            if detection.track_id is None:
                continue
            path = self.paths.setdefault(detection.track_id, TrackPath(detection.cls))
            path.cls = detection.cls
            if len(path.points) < MAX_POINTS_PER_TRACK:
                x, y = detection.foot
                path.points.append((sample.index, round(x, COORDINATE_DECIMALS), round(y, COORDINATE_DECIMALS)))


def summarise(paths: dict[int, TrackPath], messages: list[InfractionMessage]) -> dict[str, Any]:
    """The result the page draws: tracks as point lists, events with where on the frame to mark them."""
    tracks = [
        {
            "id": track_id,
            "cls": path.cls,
            "frames": [path.points[0][0], path.points[-1][0]],
            "points": [[x, y] for _index, x, y in path.points],
        }
        for track_id, path in sorted(paths.items())
        if path.points
    ]
    events = []
    for message in messages:
        path = paths.get(message.track.id)
        at = path.point_at(message.frame_end) if path is not None else None
        if at is None and message.track.trajectory:
            at = (message.track.trajectory[-1].x, message.track.trajectory[-1].y)
        events.append(
            {
                "type": message.type,
                "zone": message.zone,
                "track_id": message.track.id,
                "frames": [message.frame_start, message.frame_end],
                "confidence": round(message.confidence, 2),
                "at": list(at) if at is not None else None,
            }
        )
    return {"tracks": tracks, "events": events}


@dataclass
class ReplayState:
    state: str = "idle"
    """idle, running, done or failed."""
    source: str = ""
    source_label: str = ""
    camera_id: str = ""
    started_by: str = ""
    seconds: int = 0
    total_frames: int = 0
    frames_done: int = 0
    wall_s: float = 0.0
    summary: str = ""
    result: dict[str, Any] | None = None
    error: str = ""

    def public(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "source": self.source,
            "source_label": self.source_label,
            "camera_id": self.camera_id,
            "started_by": self.started_by,
            "seconds": self.seconds,
            "total_frames": self.total_frames,
            "frames_done": self.frames_done,
            "wall_s": round(self.wall_s, 1),
            "summary": self.summary,
            "error": self.error,
            **(self.result or {"tracks": [], "events": []}),
        }


def source_fps(uri: str) -> float:
    """The source's frame rate; SourceError unless a frame can be read now (a stream that is down would
    otherwise keep the replay reconnecting)."""
    from edge.preview import first_frame

    return first_frame(uri).fps or FALLBACK_FPS


class ReplayRunner:
    """At most one test replay per console; the last one's result stays until the next starts."""

    def __init__(self, detector: EditorDetector) -> None:
        self.detector = detector
        self._lock = threading.Lock()
        self._state = ReplayState()
        self._collector: PathCollector | None = None

    def status(self) -> dict[str, Any]:
        with self._lock:
            state = self._state
            if state.state == "running" and self._collector is not None:
                state.frames_done = self._collector.frames
            return state.public()

    def start(
        self, config: CameraConfig, uri: str, *, key: str, label: str, seconds: int, actor: str
    ) -> dict[str, Any]:
        with self._lock:
            if self._state.state == "running":
                raise ReplayBusy(
                    f"a test replay of {self._state.source_label} started by {self._state.started_by} is still "
                    "running; wait for it to end"
                )
            self._collector = PathCollector()
            self._state = ReplayState(
                "running", key, label, config.camera.id, actor, seconds, total_frames=0, frames_done=0
            )
            collector = self._collector
        worker = threading.Thread(
            target=self._run, args=(config, uri, seconds, collector), name="zone-test-replay", daemon=True
        )
        worker.start()
        return self.status()

    def _finish(self, **fields: Any) -> None:
        with self._lock:
            for name, value in fields.items():
                setattr(self._state, name, value)

    def _run(self, config: CameraConfig, uri: str, seconds: int, collector: PathCollector) -> None:
        from edge.preview import ModelError, SourceError, replay_sample

        started = time.perf_counter()
        try:
            frames = math.ceil(seconds * source_fps(uri))
            self._finish(total_frames=frames)
            # Waits for a frame being redacted at this moment; frames asked for meanwhile are told it is busy.
            with self.detector.use(wait_s=60.0) as model:
                stats, messages = replay_sample(uri, config, model, frames, collector)
            self._finish(
                state="done",
                frames_done=stats.frames,
                summary=stats.summary(),
                result=summarise(collector.paths, messages),
                wall_s=time.perf_counter() - started,
            )
        except (SourceError, ModelError, DetectorBusy) as exc:
            self._finish(state="failed", error=str(exc), wall_s=time.perf_counter() - started)
        except Exception:
            log.exception("zone editor: test replay of %s failed", uri)
            error = "the test replay failed; the console log says why"
            self._finish(state="failed", error=error, wall_s=time.perf_counter() - started)
