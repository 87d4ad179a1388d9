"""`curbwatch bench edge`: how fast one replay runs, stage by stage, against the clip's own real time.

The baseline is the source's frame rate measured in the same run: a ratio above 1 means the box keeps up
with a live camera of that clip's rate. Per-stage figures are milliseconds per source frame; `detect` and
`track` also per frame the detector ran on (with stride > 1 they differ)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from edge.detect.model_file import model_format
from edge.detector import Detector, resolve_model
from edge.pipeline import STAGES, PipelineStats
from edge.replay import replay_file
from edge.sink import MemorySink
from edge.source import VideoSource
from models.config.camera import CameraConfig


@dataclass
class BenchResult:
    model: str
    fmt: str
    imgsz: int
    stride: int
    source_fps: float
    width: int
    height: int
    stats: PipelineStats

    @property
    def realtime_ratio(self) -> float:
        return self.stats.fps / self.source_fps if self.source_fps else 0.0

    def report(self) -> str:
        s = self.stats
        per_frame = {name: s.stage_ms[name] / max(s.frames, 1) for name in STAGES}
        per_detect = {name: s.stage_ms[name] / max(s.detected_frames, 1) for name in ("detect", "track")}
        return "\n".join(
            [
                f"model {self.model} ({self.fmt}), imgsz {self.imgsz}, stride {self.stride}; "
                f"{s.frames} frames of {self.width}x{self.height} at {self.source_fps:.2f} fps",
                f"throughput: {s.fps:.1f} source frames/s; baseline real time {self.source_fps:.2f} frames/s; "
                f"ratio {self.realtime_ratio:.2f}x real time",
                f"detector ran on {s.detected_frames} of {s.frames} frames: {s.detections_per_s:.2f} detections per "
                "second of video (fewer than fps/stride while nothing moves)",
                "ms per source frame: " + ", ".join(f"{k} {v:.1f}" for k, v in per_frame.items()),
                "ms per detector run: " + ", ".join(f"{k} {v:.1f}" for k, v in per_detect.items()),
                f"events: {dict(s.events) or 'none'}",
            ]
        )


def bench(
    video: str,
    config: CameraConfig,
    model: str | None,
    max_frames: int | None,
    warmup_frames: int = 3,
) -> BenchResult:
    """Replay with evidence written to a scratch folder (its cost is part of `encode`).

    The first `warmup_frames` are replayed once beforehand so model set-up is not counted."""
    name = model or config.detector.model
    coco = model_format(resolve_model(name)) == "architecture"
    with VideoSource(video) as probe:
        fps, width, height = probe.fps, probe.width, probe.height
    detector = Detector(config.detector, model, coco_names=coco)
    replay_file(video, config, detector, sinks=[], max_frames=warmup_frames, progress=False)
    detector = Detector(config.detector, model, coco_names=coco)
    with tempfile.TemporaryDirectory(prefix="curbwatch-bench-") as scratch:
        stats = replay_file(
            video, config, detector, sinks=[MemorySink()], evidence_dir=Path(scratch), max_frames=max_frames
        )
    return BenchResult(
        name, model_format(resolve_model(name)), config.detector.imgsz, detector.stride, fps, width, height, stats
    )
