"""Scoring replays against hand-written labels: precision, recall and F1 per infraction type.

A labels file lists clips: the video (path relative to the repository root, plus its sha256), the camera
config whose zones were drawn for it, and the infractions a person saw, each as a frame range. A predicted
event matches a labelled one of the same type whose frame range overlaps it; each matches at most once."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, ValidationError, model_validator

from models.base import SHA256_PATTERN, StrictModel
from models.errors import ConfigError, format_validation_error
from models.infraction import InfractionType

TYPES: tuple[InfractionType, ...] = ("jaywalking", "littering")


class LabelledInfraction(StrictModel):
    type: InfractionType
    frame_start: Annotated[int, Field(ge=0)]
    frame_end: Annotated[int, Field(ge=0)]
    note: Annotated[str | None, Field(max_length=500, description="What the labeller saw.")] = None

    @model_validator(mode="after")
    def _ordered(self) -> LabelledInfraction:
        if self.frame_end < self.frame_start:
            raise ValueError("frame_end is before frame_start")
        return self


class LabelledClip(StrictModel):
    video: Annotated[
        str, Field(min_length=1, description="Relative to the repository root, e.g. ../shared/media/x.mp4")
    ]
    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)]
    config: Annotated[str, Field(min_length=1, description="Camera YAML with the zones drawn for this clip.")]
    infractions: list[LabelledInfraction] = []


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

    def overlap(self, other: Span) -> int:
        """Frames both ranges cover (ends inclusive); 0 when they only miss each other."""
        return max(0, min(self.frame_end, other.frame_end) - max(self.frame_start, other.frame_start) + 1)


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


def match(predicted: Iterable[Span], expected: Iterable[Span]) -> dict[str, Counts]:
    """Pair predictions with labels of the same type by overlap, largest overlaps first, one-to-one."""
    predicted, expected = list(predicted), list(expected)
    counts = {kind: Counts() for kind in TYPES}
    for kind in {s.type for s in predicted} | {s.type for s in expected}:
        preds = [s for s in predicted if s.type == kind]
        labels = [s for s in expected if s.type == kind]
        pairs = sorted(
            ((p.overlap(e), i, j) for i, p in enumerate(preds) for j, e in enumerate(labels) if p.overlap(e) > 0),
            reverse=True,
        )
        used_p: set[int] = set()
        used_e: set[int] = set()
        for _, i, j in pairs:
            if i not in used_p and j not in used_e:
                used_p.add(i)
                used_e.add(j)
        result = counts.setdefault(kind, Counts())
        result.true_positives += len(used_p)
        result.false_positives += len(preds) - len(used_p)
        result.false_negatives += len(labels) - len(used_e)
    return counts


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def score_table(counts: dict[str, Counts]) -> str:
    """A plain text table: one row per type, '-' where a figure is undefined (nothing predicted/labelled)."""
    rows = [f"{'type':<11} {'TP':>3} {'FP':>3} {'FN':>3} {'precision':>9} {'recall':>6} {'F1':>5}"]
    for kind in sorted(counts):
        c = counts[kind]
        rows.append(
            f"{kind:<11} {c.true_positives:>3} {c.false_positives:>3} {c.false_negatives:>3} "
            f"{_fmt(c.precision):>9} {_fmt(c.recall):>6} {_fmt(c.f1):>5}"
        )
    return "\n".join(rows)
