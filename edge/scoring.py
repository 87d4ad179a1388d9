"""Scoring replays against hand-written labels: precision, recall and F1 per infraction type.

A labels file lists clips: the video (path relative to the repository root, plus its sha256), the camera
config whose zones were drawn for it, and the infractions a person saw, each as a frame range. A predicted
event matches a labelled one of the same type whose frame range overlaps it; each matches at most once.

A label may also say where it happened: a short path of [frame, x, y] ground points (the walker's feet, or the
dropped item). Matching "by place" then also asks the predicted event to have been near that path at those
frames, so an event from someone else who happened to be in view at the same time (a cyclist beside a
labelled walker) is not counted as finding the label. Frame overlap alone stays the headline definition."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, NonNegativeInt, ValidationError, model_validator

from models.base import SHA256_PATTERN, StrictModel
from models.errors import ConfigError, format_validation_error
from models.infraction import InfractionType
from models.rule_catalogue import RULE_NAMES

TYPES: tuple[InfractionType, ...] = RULE_NAMES
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
PathPoint = tuple[int, float, float]
"""frame, x, y (normalised to the frame)."""


class LabelledInfraction(StrictModel):
    type: InfractionType
    frame_start: Annotated[int, Field(ge=0)]
    frame_end: Annotated[int, Field(ge=0)]
    note: Annotated[str | None, Field(max_length=500, description="What the labeller saw.")] = None
    path: Annotated[
        list[tuple[NonNegativeInt, Unit, Unit]],
        Field(
            max_length=64,
            description="Where it happened, for matching by place: [frame, x, y] points of the person's feet "
            "(or of the dropped item), in frame order.",
        ),
    ] = []

    @model_validator(mode="after")
    def _ordered(self) -> LabelledInfraction:
        if self.frame_end < self.frame_start:
            raise ValueError("frame_end is before frame_start")
        frames = [point[0] for point in self.path]
        if frames != sorted(frames):
            raise ValueError("path points must be in frame order")
        return self


class LabelledClip(StrictModel):
    video: Annotated[
        str, Field(min_length=1, description="Relative to the repository root, e.g. ../shared/media/x.mp4")
    ]
    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)]
    config: Annotated[str, Field(min_length=1, description="Camera YAML with the zones drawn for this clip.")]
    infractions: list[LabelledInfraction] = []
    near: Annotated[
        float,
        Field(
            gt=0.0,
            le=1.0,
            description="Matching by place: the farthest (frame widths, on average over the label's path) a "
            "predicted event may be from the labelled path.",
        ),
    ] = 0.03
    slack_s: Annotated[
        float,
        Field(
            ge=0.0,
            le=10.0,
            description="Labels' frame ranges are widened by this many seconds on each side before matching: 2 for "
            "the independent labels of ../shared/labels, scored that way by their labeller.",
        ),
    ] = 0.0


class LabelFile(StrictModel):
    clips: Annotated[list[LabelledClip], Field(min_length=1)]


def load_labels(path: str | Path) -> LabelFile:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML ({exc})"]) from None
    try:
        return LabelFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(str(path), format_validation_error(exc, LabelFile)) from None


@dataclass(frozen=True)
class Span:
    type: str
    frame_start: int
    frame_end: int
    points: tuple[PathPoint, ...] = ()
    """Where it happened, in frame order (a predicted track's trajectory, a label's path); may be empty."""

    def overlap(self, other: Span) -> int:
        """Frames both ranges cover (ends inclusive); 0 when they only miss each other."""
        return max(0, min(self.frame_end, other.frame_end) - max(self.frame_start, other.frame_start) + 1)

    def widened(self, frames: int) -> Span:
        return Span(self.type, max(0, self.frame_start - frames), self.frame_end + frames, self.points)

    def position(self, frame: int) -> tuple[float, float]:
        """Where this span was at `frame`, interpolated between its points, held at the ends."""
        points = self.points
        if frame <= points[0][0]:
            return points[0][1], points[0][2]
        for (f0, x0, y0), (f1, x1, y1) in pairwise(points):
            if frame <= f1:
                u = (frame - f0) / (f1 - f0) if f1 > f0 else 1.0
                return x0 + (x1 - x0) * u, y0 + (y1 - y0) * u
        return points[-1][1], points[-1][2]


def place_distance(predicted: Span, label: Span, aspect: float = 1.0) -> float | None:
    """Mean distance in frame widths between the prediction and the label at the same frames: at the label's path
    points inside the predicted frame range (all of them when none is), or at the prediction's own point when it
    has only one (a littered item); None when either side has no points. `aspect` is the frame's height over its
    width, so vertical offsets count in frame widths too."""
    if not predicted.points or not label.points:
        return None
    if len(predicted.points) == 1:
        pairs = [(predicted.points[0], label.position(predicted.points[0][0]))]
    else:
        inside = [p for p in label.points if predicted.frame_start <= p[0] <= predicted.frame_end]
        pairs = [((f, x, y), predicted.position(f)) for f, x, y in inside or label.points]
    distances = [math.hypot(a[1] - b[0], (a[2] - b[1]) * aspect) for a, b in pairs]
    return sum(distances) / len(distances)


@dataclass(frozen=True)
class Pairing:
    """One predicted event and the label it matched; either side None for a false positive / a miss."""

    type: str
    predicted: int | None
    expected: int | None
    distance: float | None = None
    """`place_distance` of a matched pair (None when unknown)."""


@dataclass
class Counts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    def add(self, other: Counts) -> None:
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives
        self.false_negatives += other.false_negatives

    @property
    def precision(self) -> float | None:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0


def pair(
    predicted: Iterable[Span],
    expected: Iterable[Span],
    near: float | None = None,
    aspect: float = 1.0,
    slack: int = 0,
) -> list[Pairing]:
    """Pair predictions with labels of the same type by overlap, largest overlaps first, one-to-one; each label's
    range widened by `slack` frames on both sides. With `near`, a pair whose place distance is known and above
    `near` is not allowed (matching by place). Indices refer to the given lists; every prediction and every label
    appears in exactly one pairing."""
    predicted, expected = list(predicted), list(expected)
    candidates = []
    for i, p in enumerate(predicted):
        for j, e in enumerate(expected):
            overlap = p.overlap(e.widened(slack))
            if p.type != e.type or overlap <= 0:
                continue
            distance = place_distance(p, e, aspect)
            if near is not None and distance is not None and distance > near:
                continue
            candidates.append((overlap, i, j, distance))
    pairings: list[Pairing] = []
    used_p: set[int] = set()
    used_e: set[int] = set()
    for _, i, j, distance in sorted(candidates, key=lambda c: (c[0], c[1], c[2]), reverse=True):
        if i not in used_p and j not in used_e:
            used_p.add(i)
            used_e.add(j)
            pairings.append(Pairing(predicted[i].type, i, j, distance))
    pairings += [Pairing(p.type, i, None) for i, p in enumerate(predicted) if i not in used_p]
    pairings += [Pairing(e.type, None, j) for j, e in enumerate(expected) if j not in used_e]
    return pairings


COVERS = 0.5
"""An event covers a label when its range holds at least this share of the label's frames."""


def joined(predicted: Iterable[Span], expected: Iterable[Span], near: float, aspect: float = 1.0) -> int | None:
    """Events that followed two or more labelled people of their type: each such label has at least COVERS of its
    frames inside the event's range and the event's track passed near its path (`place_distance` at most `near`).
    Two walks reported as one. None when the labels give no paths: frame ranges alone cannot tell two people who
    are in view at the same time from one."""
    expected = list(expected)
    if any(not e.points for e in expected):
        return None
    out = 0
    for p in predicted:
        covered = 0
        for e in expected:
            if e.type != p.type or p.overlap(e) < COVERS * (e.frame_end - e.frame_start + 1):
                continue
            distance = place_distance(p, e, aspect)
            covered += distance is not None and distance <= near
        out += covered >= 2
    return out


def count(pairings: Iterable[Pairing]) -> dict[str, Counts]:
    counts: dict[str, Counts] = {kind: Counts() for kind in TYPES}
    for p in pairings:
        c = counts.setdefault(p.type, Counts())
        if p.predicted is not None and p.expected is not None:
            c.true_positives += 1
        elif p.predicted is not None:
            c.false_positives += 1
        else:
            c.false_negatives += 1
    return counts


def match(predicted: Iterable[Span], expected: Iterable[Span]) -> dict[str, Counts]:
    """TP/FP/FN per type by frame overlap alone (the headline definition)."""
    return count(pair(predicted, expected))


def ratio_text(value: float | None) -> str:
    """A precision, recall or F1 to two places; '-' where it is undefined (nothing predicted or labelled)."""
    return "-" if value is None else f"{value:.2f}"


def score_table(counts: dict[str, Counts]) -> str:
    """A plain text table: one row per type, '-' where a figure is undefined (nothing predicted/labelled)."""
    rows = [f"{'type':<11} {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>6} {'F1':>5}"]
    for kind in sorted(counts):
        c = counts[kind]
        rows.append(
            f"{kind:<11} {c.true_positives:>3} {c.false_positives:>3} {c.false_negatives:>3} "
            f"{ratio_text(c.precision):>9} {ratio_text(c.recall):>6} {ratio_text(c.f1):>5}"
        )
    return "\n".join(rows)
