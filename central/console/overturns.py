"""Accuracy as reviewers see it: how often a decision on a camera's events, under one rule, was later overturned
(a confirmation reversed on appeal or reopened by a supervisor, or a rejection reopened). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DECISIONS = frozenset({"confirm", "reject"})
DECIDED_STATES = frozenset({"confirmed", "rejected"})


@dataclass(frozen=True)
class Step:
    """One review move, as much of it as the arithmetic needs."""

    action: str
    from_state: str


@dataclass(frozen=True)
class EventSteps:
    camera: str
    rule: str
    steps: Sequence[Step]


@dataclass(frozen=True)
class OverturnRow:
    camera: str
    rule: str
    decided: int
    overturned: int

    @property
    def rate(self) -> float:
        return self.overturned / self.decided if self.decided else 0.0


def overturned(steps: Sequence[Step]) -> bool:
    return any(
        step.action == "reverse" or (step.action == "reopen" and step.from_state in DECIDED_STATES) for step in steps
    )


def overturn_rates(events: Iterable[EventSteps]) -> list[OverturnRow]:
    """One row per (camera, rule) with at least one decided event, sorted by camera then rule. An event counts
    once however many times it was decided; it is overturned if any decision on it was."""
    tally: dict[tuple[str, str], list[int]] = {}
    for event in events:
        if not any(step.action in DECISIONS for step in event.steps):
            continue
        counts = tally.setdefault((event.camera, event.rule), [0, 0])
        counts[0] += 1
        counts[1] += overturned(event.steps)
    return [OverturnRow(camera, rule, decided, over) for (camera, rule), (decided, over) in sorted(tally.items())]


def total(rows: Sequence[OverturnRow]) -> OverturnRow:
    return OverturnRow("all cameras", "all rules", sum(r.decided for r in rows), sum(r.overturned for r in rows))
