"""`curbwatch eval`: replay every labelled clip and score its events against the labels."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2

from edge.detector import Detector
from edge.replay import replay_file
from edge.scoring import Counts, LabelledClip, Pairing, PathPoint, Span, count, joined, load_labels, pair, ratio_text
from edge.sink import MemorySink
from models.config import load_camera_config
from models.config.detector import DetectorConfig
from models.errors import InputError
from models.infraction import InfractionMessage

log = logging.getLogger(__name__)


class EvalError(InputError):
    """A labelled clip that cannot be scored (missing video, changed video); one line."""


@dataclass
class ClipResult:
    video: str
    predicted: list[Span]
    expected: list[Span]
    counts: dict[str, Counts]
    """By frame overlap (the headline definition)."""
    messages: list[InfractionMessage]
    notes: list[str]
    """The labels' notes, in the order of `expected`."""
    pairings: list[Pairing]
    located: list[Pairing]
    """Pairings by overlap and place (labels with a path must be near the predicted track)."""
    near: float
    label: str = ""
    """The clip's camera config, as the rates table names it (heldout/jay_intersection_crosswalk)."""
    joined: int | None = None
    """Events that followed two labelled people: two walks reported as one (`edge.scoring.joined`); None when the
    labels give no paths to tell."""

    @property
    def located_counts(self) -> dict[str, Counts]:
        return count(self.located)


def _check_video(clip: LabelledClip) -> Path:
    path = Path(clip.video)
    if not path.is_file():
        raise EvalError(f"labelled video not found: {clip.video}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != clip.sha256:
        raise EvalError(f"{clip.video} has sha256 {digest}, but the labels were written for {clip.sha256}")
    return path


def _geometry(video: Path) -> tuple[float, float]:
    """The video's height over its width, and its frame rate (0 when it does not say)."""
    capture = cv2.VideoCapture(str(video))
    try:
        width = capture.get(cv2.CAP_PROP_FRAME_WIDTH)
        height = capture.get(cv2.CAP_PROP_FRAME_HEIGHT)
        fps = capture.get(cv2.CAP_PROP_FPS)
    finally:
        capture.release()
    return (height / width if width > 0 else 1.0), (fps if fps > 0 else 0.0)


def event_points(message: InfractionMessage) -> tuple[PathPoint, ...]:
    """Where a predicted event happened: the littered item's place, or the walker's trajectory with its times
    turned into frames (the trajectory runs from frame_start to frame_end)."""
    measured = message.rule.measurements
    item_x, item_y = measured.get("item_x"), measured.get("item_y")
    if isinstance(item_x, float | int) and isinstance(item_y, float | int):
        return ((message.frame_end, float(item_x), float(item_y)),)
    trajectory = message.track.trajectory
    if not trajectory:
        return ()
    last_t = trajectory[-1].t
    frames = message.frame_end - message.frame_start
    return tuple(
        (message.frame_start + (round(frames * p.t / last_t) if last_t > 0 else 0), p.x, p.y) for p in trajectory
    )


def evaluate_clip(
    clip: LabelledClip, model: str | None = None, progress: bool = True, detector: dict | None = None
) -> ClipResult:
    """`detector` overrides keys of each clip's `detector` settings (fps, stride, tracker), for comparisons."""
    video = _check_video(clip)
    config = load_camera_config(clip.config)
    if detector:
        overridden = DetectorConfig.model_validate({**config.detector.model_dump(), **detector})
        config = config.model_copy(update={"detector": overridden})
    sink = MemorySink()
    replay_file(video, config, Detector(config.detector, model), sinks=[sink], progress=progress)
    messages = sorted(sink.messages, key=lambda m: (m.frame_start, m.frame_end))
    predicted = [Span(m.type, m.frame_start, m.frame_end, event_points(m)) for m in messages]
    expected = [Span(i.type, i.frame_start, i.frame_end, tuple(i.path)) for i in clip.infractions]
    aspect, fps = _geometry(video)
    slack = round(clip.slack_s * fps)
    pairings = pair(predicted, expected, slack=slack)
    return ClipResult(
        video=clip.video,
        predicted=predicted,
        expected=expected,
        counts=count(pairings),
        messages=messages,
        notes=[i.note or "" for i in clip.infractions],
        pairings=pairings,
        located=pair(predicted, expected, near=clip.near, aspect=aspect, slack=slack),
        near=clip.near,
        label=str(Path(clip.config).with_suffix("")).removeprefix("examples/"),
        joined=joined(predicted, expected, clip.near, aspect),
    )


def evaluate(
    label_files: list[str], model: str | None = None, progress: bool = True, detector: dict | None = None
) -> list[ClipResult]:
    """Every clip of every labels file, in order. Raises ConfigError, EvalError, ModelError, SourceError, and
    pydantic's ValidationError for `detector` overrides out of range."""
    clips = [clip for path in label_files for clip in load_labels(path).clips]
    return [evaluate_clip(clip, model, progress, detector) for clip in clips]


def totals(results: list[ClipResult], located: bool = False) -> dict[str, Counts]:
    out: dict[str, Counts] = {}
    for result in results:
        for kind, counts in (result.located_counts if located else result.counts).items():
            out.setdefault(kind, Counts()).add(counts)
    return out


def _where(span: Span) -> str:
    if not span.points:
        return ""
    first, last = span.points[0], span.points[-1]
    if len(span.points) == 1:
        return f" at ({first[1]:.2f}, {first[2]:.2f})"
    return f" ({first[1]:.2f}, {first[2]:.2f})->({last[1]:.2f}, {last[2]:.2f})"


def _event(result: ClipResult, index: int) -> str:
    span, message = result.predicted[index], result.messages[index]
    return f"{span.type} {span.frame_start}-{span.frame_end} track {message.track.id}{_where(span)}"


def _label(result: ClipResult, index: int) -> str:
    span = result.expected[index]
    note = result.notes[index]
    note = f": {note[:90]}..." if len(note) > 90 else (f": {note}" if note else "")
    return f"label #{index + 1} {span.type} {span.frame_start}-{span.frame_end}{note}"


def describe(result: ClipResult) -> list[str]:
    """Event by event: what each prediction matched, by overlap and by place, and every label that was missed."""
    located = {p.predicted: p for p in result.located if p.predicted is not None}
    located_labels = {p.expected for p in result.located if p.expected is not None and p.predicted is not None}
    lines = [f"{result.video} (by place: within {result.near:.3f} frame widths of the labelled path)"]
    for p in sorted(result.pairings, key=lambda p: -1 if p.predicted is None else p.predicted):
        if p.predicted is None:
            continue
        by_place = located[p.predicted]
        if p.expected is None:
            verdict = "false positive (no labelled infraction of this type overlaps it)"
        else:
            verdict = f"true positive: {_label(result, p.expected)}"
        if by_place.expected is None and p.expected is not None:
            distance = f"{p.distance:.3f}" if p.distance is not None else "?"
            verdict += f"\n      by place: FALSE POSITIVE (its track is {distance} frame widths from the label's path)"
        elif by_place.expected is not None and by_place.expected != p.expected:
            verdict += f"\n      by place: matches {_label(result, by_place.expected)}"
        elif by_place.distance is not None:
            verdict += f" [by place too: {by_place.distance:.3f}]"
        lines.append(f"  event {_event(result, p.predicted)}\n      {verdict}")
    for p in result.pairings:
        if p.predicted is None and p.expected is not None:
            lines.append(f"  MISSED {_label(result, p.expected)}")
        elif p.expected is not None and p.expected not in located_labels:
            lines.append(f"  MISSED by place {_label(result, p.expected)}")
    return lines


EVERY_FRAME = "every"
"""In a list of detection rates: the detector on every frame (stride 1), the reference the others answer to."""


def parse_rates(text: str) -> list[float | None]:
    """'3,4,6,12,every' -> [3.0, 4.0, 6.0, 12.0, None] (None: every frame). Raises ValueError with the reason."""
    rates: list[float | None] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part == EVERY_FRAME:
            rates.append(None)
            continue
        try:
            rate = float(part)
        except ValueError:
            raise ValueError(f"{part!r} is neither a number of detections a second nor {EVERY_FRAME!r}") from None
        if not 0.5 <= rate <= 60.0:
            raise ValueError(f"{part}: detections a second must be between 0.5 and 60")
        rates.append(rate)
    if not rates:
        raise ValueError(f"no rate given: e.g. 3,4,6,12,{EVERY_FRAME}")
    return rates


def rate_name(rate: float | None) -> str:
    return EVERY_FRAME if rate is None else f"{rate:g}/s"


def rate_overrides(rate: float | None) -> dict:
    """Detector settings for one rate: `fps` with no fixed stride, or stride 1 for every frame."""
    return {"stride": 1} if rate is None else {"fps": rate, "stride": None}


def rates_table(by_rate: list[tuple[float | None, list[ClipResult]]]) -> str:
    """A Markdown table: per rate, per clip and type (where either side has something), TP/FP/FN, precision,
    recall and joined events; then each rate's totals per type."""

    def row(rate: str, clip: str, kind: str, counts: Counts, joins: int | None) -> str:
        figures = (counts.true_positives, counts.false_positives, counts.false_negatives)
        return (
            f"| {rate} | {clip} | {kind} | {' | '.join(str(n) for n in figures)} | {ratio_text(counts.precision)} | "
            f"{ratio_text(counts.recall)} | {'-' if joins is None else joins} |"
        )

    lines = [
        "| rate | clip | type | TP | FP | FN | precision | recall | joined |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for rate, results in by_rate:
        for result in results:
            for kind, counts in sorted(result.counts.items()):
                if counts.true_positives + counts.false_positives + counts.false_negatives == 0:
                    continue
                joins = result.joined if kind == "jaywalking" else None
                lines.append(row(rate_name(rate), result.label, kind, counts, joins))
    for rate, results in by_rate:
        for kind, counts in sorted(totals(results).items()):
            known = [r.joined for r in results if r.joined is not None]
            joins = sum(known) if kind == "jaywalking" and known else None
            lines.append(row(f"**{rate_name(rate)}**", "**all clips**", kind, counts, joins))
    return "\n".join(lines)
