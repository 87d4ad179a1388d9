"""What the console's zone editor runs of a camera before its file is saved: the camera's own detector, redaction
and zone checks on a sample of its video, so that what an operator sees while drawing is what the camera will do.
The one edge module central may import (the layers contract in pyproject.toml); the rest of the edge stays behind
it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.detector import Detector, ModelError
from edge.pipeline import FrameObserver, PipelineStats
from edge.redact import Redactor
from edge.replay import replay_file
from edge.samples import FrameSample
from edge.sink import MemorySink
from edge.source import SourceError, VideoSource
from edge.zone_warnings import zone_warnings
from models.config.camera import CameraConfig
from models.config.redaction import RedactionConfig
from models.infraction import InfractionMessage

__all__ = [
    "Detector",
    "FirstFrame",
    "FrameSample",
    "ModelError",
    "SourceError",
    "first_frame",
    "redact_people",
    "replay_sample",
    "zone_warnings",
]


@dataclass(frozen=True)
class FirstFrame:
    image: np.ndarray
    t: float
    fps: float
    """The frame rate the source states; 0.0 when it states none (some streams)."""


def first_frame(uri: str) -> FirstFrame:
    """The source's first frame as it reads now; SourceError when none can be read now (a stream that is down
    is not waited for)."""
    with VideoSource(uri, max_reconnects=0) as source:
        frame = next(iter(source), None)
        if frame is None:
            raise SourceError("no frame could be read from the source now")
        return FirstFrame(frame.image, frame.t, source.fps)


def redact_people(detector: Detector, frame: FirstFrame) -> np.ndarray:
    """The frame with every person the detector finds pixelated as the pipeline's evidence is, in mode 'person'
    whatever a camera file says."""
    redactor = Redactor(RedactionConfig(mode="person"))
    detections, detected = detector.process(frame.image, frame.t)
    redactor.update(frame.t, detections, detected, detector.raw_people)
    return redactor.apply(frame.image, frame.t)


def replay_sample(
    uri: str, config: CameraConfig, detector: Detector, frames: int, observer: FrameObserver
) -> tuple[PipelineStats, list[InfractionMessage]]:
    """The first `frames` frames of `uri` through the camera's pipeline as `config` drafts it: its figures and the
    events it would send (kept here, sent nowhere). Raises SourceError for a source that cannot be used."""
    sink = MemorySink()
    stats = replay_file(uri, config, detector, sinks=[sink], max_frames=frames, progress=False, observers=[observer])
    return stats, sink.messages
