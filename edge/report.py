"""`edge replay --report`: one self-contained HTML page about a replay: the zones, a heat map of where people
walked, each event with its keyframes and rule trace, a timeline, and where the time went.

Everything is embedded (figures as PNG, keyframes as JPEG, both as data: URIs) and the page's Content
Security Policy forbids loading anything else, so it opens offline and can be mailed as one file."""

from __future__ import annotations

import base64
import contextlib
import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from edge import report_figures as figures
from edge.detector import sha256_of
from edge.pipeline import STAGES, Pipeline, PipelineStats
from edge.report_data import ReportCollector
from edge.sink import MemorySink
from models.config.camera import CameraConfig
from models.errors import InputError
from models.geometry import polygon_area
from models.infraction import InfractionMessage, ModelRef
from models.rule_trace import trace_lines

log = logging.getLogger(__name__)

TEMPLATE = "replay_report.html"
HEAT_COLUMNS = 48
BLANK_SIZE = (640, 360)
"""Backdrop size when no redacted frame was kept (a replay of no frames)."""


class ReportError(InputError):
    """The report cannot be written where asked."""


def check_report_path(path: str | Path) -> Path:
    """The report's path, its folder created; a ReportError before any replay work if it cannot be written."""
    target = Path(path)
    if target.is_dir():
        raise ReportError(f"--report {path}: is a directory; give a file name such as report.html")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"--report {path}: cannot create folder {target.parent}: {exc.strerror}") from exc
    if not os.access(target.parent, os.W_OK):
        raise ReportError(f"--report {path}: folder {target.parent} is not writable")
    return target


def data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass
class ReplayReport:
    """Gathers during a replay (`collector` as the pipeline's observer, `sink` among its sinks, `attach` as
    replay_file's on_start) and writes the page afterwards."""

    video: Path
    config_file: Path
    config: CameraConfig
    collector: ReportCollector = field(default_factory=ReportCollector)
    sink: MemorySink = field(default_factory=MemorySink)
    model: ModelRef | None = None
    stride: int = 1

    def attach(self, pipeline: Pipeline) -> None:
        self.collector.watch(pipeline.ring)
        self.model = pipeline.detector.model_ref
        self.stride = pipeline.detector.stride

    def write(self, path: Path, stats: PipelineStats) -> None:
        """Render and write atomically; ReportError when the file cannot be written."""
        html = self.render(stats)
        partial = path.with_name(f".{path.name}.partial")
        try:
            partial.write_text(html, encoding="utf-8")
            os.replace(partial, path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            raise ReportError(f"--report {path}: cannot write: {exc.strerror}") from exc
        log.info("report written to %s (%d kB)", path, len(html) // 1024)

    def render(self, stats: PipelineStats) -> str:
        scene = self._backdrop()
        zones = self.config.zones
        height, width = scene.shape[:2]
        heat = self.collector.heat_map(HEAT_COLUMNS, max(1, round(HEAT_COLUMNS * height / width)))
        events = [self._event(number, message) for number, message in enumerate(self.sink.messages, 1)]
        spans = [
            figures.EventSpan(f"#{e['number']} {e['type']} (track {e['track']})", e["type"], e["t_start"], e["t_end"])
            for e in events
        ]
        environment = Environment(
            loader=FileSystemLoader(Path(__file__).parent), autoescape=True, undefined=StrictUndefined
        )
        return environment.get_template(TEMPLATE).render(
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            camera=self.config.camera,
            redaction=self.config.redaction.mode,
            video=self.video.name,
            video_sha256=sha256_of(self.video),
            config_name=self.config_file.name,
            model=self.model,
            stride=self.stride,
            stats=stats,
            summary=stats.summary(),
            tracks=self.collector.track_count(),
            classes=self.collector.classes.most_common(),
            zones=[
                {
                    "name": zone.name,
                    "kind": zone.kind,
                    "colour": "#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in figures.zone_colour(zone.kind))),
                    "share": polygon_area(zone.polygon),
                }
                for zone in zones
            ],
            zones_img=data_uri(figures.zones_figure(scene, zones), "image/jpeg"),
            heat_img=data_uri(figures.heat_figure(scene, zones, heat), "image/jpeg"),
            foot_points=len(self.collector.feet),
            heat_peak=int(heat.max(initial=0)),
            events=events,
            timeline_png=data_uri(figures.timeline_figure(self.collector.rows, spans), "image/png"),
            timing=self._timing(stats),
            timing_png=data_uri(figures.timing_figure(self._per_frame(stats)), "image/png"),
        )

    def _backdrop(self) -> np.ndarray:
        """The kept redacted frame as RGB, or a plain grey canvas of the frame's shape."""
        if self.collector.scene is not None:
            return cv2.cvtColor(self.collector.scene.image(), cv2.COLOR_BGR2RGB)
        width, height = self.collector.size or BLANK_SIZE
        scale = BLANK_SIZE[0] / width
        return np.full((max(1, round(height * scale)), BLANK_SIZE[0], 3), 200, np.uint8)

    def _event(self, number: int, message: InfractionMessage) -> dict:
        span_s = (message.ended_at - message.started_at).total_seconds()
        t_start = self.collector.time_of(message.frame_start)
        t_start = 0.0 if t_start is None else t_start
        t_end = self.collector.time_of(message.frame_end)
        pictures: dict[str, list[str]] = {"keyframe": [], "item_crop": []}
        missing = 0
        for ref, path in self.sink.evidence.get(message.event_id, []):
            if ref.role not in pictures:
                continue
            try:
                pictures[ref.role].append(data_uri(path.read_bytes(), ref.media_type))
            except OSError as exc:
                log.warning("event %s: %s %s unreadable: %s", message.event_id, ref.role, path, exc)
                missing += 1
        return {
            "number": number,
            "message": message,
            "type": message.type,
            "track": message.track.id,
            "t_start": t_start,
            "t_end": t_start + span_s if t_end is None else t_end,
            "duration": span_s,
            "keyframes": pictures["keyframe"],
            "item_crops": pictures["item_crop"],
            "missing": missing,
            "clips": sum(ref.role == "clip" for ref in message.evidence),
            "trace": trace_lines(message.rule.thresholds, message.rule.measurements),
            "life": [
                # Source time of each status: the event's start on the clip plus the seconds since it.
                {"state": status.state, "t": t_start + status.since_event_s, "since": status.since_event_s}
                for status in self.sink.items
                if status.event_id == message.event_id
            ],
        }

    @staticmethod
    def _per_frame(stats: PipelineStats) -> dict[str, float]:
        return {stage: stats.stage_ms[stage] / max(stats.frames, 1) for stage in STAGES}

    def _timing(self, stats: PipelineStats) -> list[dict]:
        total = sum(stats.stage_ms[stage] for stage in STAGES) or 1.0
        return [
            {
                "stage": stage,
                "total_ms": stats.stage_ms[stage],
                "per_frame_ms": per_frame,
                "share": stats.stage_ms[stage] / total,
            }
            for stage, per_frame in self._per_frame(stats).items()
        ]
