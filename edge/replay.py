"""One replay of a video file through the pipeline, shared by `edge replay`, `eval` and `bench edge`."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from edge.annotate import Annotator
from edge.detector import Detector
from edge.lifecycle import Lifecycle
from edge.pipeline import FrameObserver, Pipeline, PipelineStats, run
from edge.progress import progress_bar
from edge.sink import EventSink
from edge.source import SourceFrame, VideoSource
from models.config.camera import CameraConfig

log = logging.getLogger(__name__)


def replay_file(
    video: str | Path,
    config: CameraConfig,
    detector: Detector,
    *,
    sinks: list[EventSink],
    evidence_dir: Path | None = None,
    annotate: Path | None = None,
    realtime: bool = False,
    max_frames: int | None = None,
    progress: bool = True,
    observers: Iterable[FrameObserver] = (),
    on_start: Callable[[Pipeline], None] | None = None,
    lifecycle: Lifecycle | None = None,
) -> PipelineStats:
    """Replay `video` as fast as possible (or paced with `realtime`); wall times start now. `on_start` sees
    the pipeline before its first frame (the replay report keeps a redacted frame from its ring). With a
    `lifecycle`, a stop signal ends the replay as it ends `edge run`: no more frames, the events in progress finish.

    Raises SourceError for a video that cannot be used and AnnotationError for an unusable --annotate."""
    origin = datetime.now(UTC)
    with VideoSource(str(video), realtime=realtime, start_wall=origin) as source:
        annotator = Annotator(annotate, config.zones, source.fps, (source.width, source.height)) if annotate else None
        pipeline = Pipeline(
            config,
            detector,
            origin=origin,
            sinks=sinks,
            evidence_dir=evidence_dir,
            annotate=annotator,
            observers=observers,
            source_fps=source.fps,
            frame_size=(source.width, source.height),
            clip=str(video),
        )
        if on_start is not None:
            on_start(pipeline)
        total = source.frame_count if max_frames is None else min(max_frames, source.frame_count or max_frames)
        frames: Iterator[SourceFrame] = itertools.islice(source, max_frames) if max_frames is not None else iter(source)
        if lifecycle is not None:
            frames = lifecycle.frames(frames, reload=lambda: log.info("SIGHUP: a replay has no config to reload"))
        with progress_bar(total, Path(str(video)).name, progress) as bar:
            return run(pipeline, frames, bar)
