"""`curbwatch eval`: replay every labelled clip and score its events against the labels."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from edge.detector import Detector
from edge.replay import replay_file
from edge.scoring import Counts, LabelledClip, Span, load_labels, match
from edge.sink import MemorySink
from models.config import load_camera_config

log = logging.getLogger(__name__)


class EvalError(Exception):
    """A labelled clip that cannot be scored (missing video, changed video); one line."""


@dataclass
class ClipResult:
    video: str
    predicted: list[Span]
    expected: list[Span]
    counts: dict[str, Counts]


def _check_video(clip: LabelledClip) -> Path:
    path = Path(clip.video)
    if not path.is_file():
        raise EvalError(f"labelled video not found: {clip.video}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != clip.sha256:
        raise EvalError(f"{clip.video} has sha256 {digest}, but the labels were written for {clip.sha256}")
    return path


def evaluate_clip(clip: LabelledClip, model: str | None = None, progress: bool = True) -> ClipResult:
    video = _check_video(clip)
    config = load_camera_config(clip.config)
    sink = MemorySink()
    replay_file(video, config, Detector(config.detector, model), sinks=[sink], progress=progress)
    predicted = [Span(m.type, m.frame_start, m.frame_end) for m in sink.messages]
    expected = [Span(i.type, i.frame_start, i.frame_end) for i in clip.infractions]
    return ClipResult(clip.video, predicted, expected, match(predicted, expected))


def evaluate(label_files: list[str], model: str | None = None, progress: bool = True) -> list[ClipResult]:
    """Every clip of every labels file, in order. Raises ConfigError, EvalError, ModelError, SourceError."""
    clips = [clip for path in label_files for clip in load_labels(path).clips]
    return [evaluate_clip(clip, model, progress) for clip in clips]


def totals(results: list[ClipResult]) -> dict[str, Counts]:
    out: dict[str, Counts] = {}
    for result in results:
        for kind, counts in result.counts.items():
            out.setdefault(kind, Counts()).add(counts)
    return out
