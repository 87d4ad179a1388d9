"""A "what if": every reviewed event of one camera and rule judged again under proposed thresholds. Pure; the
decisions stay as they are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from central.tuning import precision
from central.tuning.rejudge import FIRES, SILENT, UNKNOWN, Verdict, fired_by, rejudge
from central.tuning.reviewed import Reviewed


@dataclass(frozen=True)
class Judged:
    event: Reviewed
    label: str
    verdict: Verdict
    fired_by: str = ""
    """When it fires under the proposal: which test, in words."""

    @property
    def changes_side(self) -> bool:
        """Every stored event fired under its own thresholds; this one would not have."""
        return self.verdict == SILENT


@dataclass(frozen=True)
class Outcome:
    rows: list[Judged]
    now: precision.Tally
    """The reviewed events as they are: every one fired."""
    kept: precision.Tally
    """Those that would still fire."""
    dropped: precision.Tally
    unknown: precision.Tally

    @property
    def still_caught(self) -> float | None:
        """Share of today's confirmed events the proposal still fires on (a recall relative to today's
        thresholds; events they never fired on are not known)."""
        return self.kept.confirmed / self.now.confirmed if self.now.confirmed else None


def what_if(rule: str, events: Sequence[Reviewed], proposed: Mapping[str, float]) -> Outcome:
    rows = []
    for event in events:
        verdict = rejudge(rule, event.thresholds, event.measurements, proposed)
        why = fired_by(rule, event.thresholds, event.measurements, proposed) if verdict == FIRES else ""
        rows.append(Judged(event, precision.label(event), verdict, why))
    return Outcome(
        rows=rows,
        now=precision.tally(r.event for r in rows),
        kept=precision.tally(r.event for r in rows if r.verdict == FIRES),
        dropped=precision.tally(r.event for r in rows if r.verdict == SILENT),
        unknown=precision.tally(r.event for r in rows if r.verdict == UNKNOWN),
    )
