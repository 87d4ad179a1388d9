"""A "what if": every reviewed event of one camera and rule judged again under proposed thresholds. Pure; the
decisions stay as they are.

A proposal is the thresholds a supervisor moved, in the unit of the newest trace (the camera as it runs now).
Each event is judged under its own trace's thresholds with only the moved ones replaced, so an event the camera
fired under older values is not counted as dropped by a proposal that changed nothing. A moved distance means
nothing to a trace measured in the other unit (frame widths before a ground-plane calibration, metres after):
such an event cannot be told."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from central.tuning import precision
from central.tuning.rejudge import FIRES, RULES, SILENT, UNKNOWN, Verdict, fired_by, rejudge
from central.tuning.reviewed import Reviewed
from models.infraction import Scalar

UNIT_WORDS = {"frame_widths": "frame widths", "m": "metres"}


def unit_words(unit: Scalar) -> str:
    """A trace's unit of distance in words ("frame widths", "metres"); "" when it names none."""
    return "" if unit is None or unit == "" else UNIT_WORDS.get(str(unit), str(unit).replace("_", " "))


@dataclass(frozen=True)
class Judged:
    event: Reviewed
    label: str
    verdict: Verdict
    fired_by: str = ""
    """When it fires under the proposal: which test, in words."""
    unit_note: str = ""
    """When a moved distance is in another unit than the event's: which, in words (the verdict: cannot tell)."""

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
    other_unit: int = 0
    """Events left untold because a moved distance is in another unit than theirs."""

    @property
    def still_caught(self) -> float | None:
        """Share of today's confirmed events the proposal still fires on (a recall relative to today's
        thresholds; events they never fired on are not known)."""
        return self.kept.confirmed / self.now.confirmed if self.now.confirmed else None


def _judge(rule: str, event: Reviewed, moved: Mapping[str, float], unit: Scalar) -> Judged:
    label = precision.label(event)
    own_unit = event.thresholds.get("unit")
    distances = [k.threshold for k in RULES[rule].knobs if k.in_trace_unit and k.threshold in moved]
    if distances and own_unit != unit:
        note = (
            f"{', '.join(distances)} proposed in {unit_words(unit) or 'no unit'}, "
            f"measured in {unit_words(own_unit) or 'no unit'}"
        )
        return Judged(event, label, UNKNOWN, unit_note=note)
    verdict = rejudge(rule, event.thresholds, event.measurements, moved)
    why = fired_by(rule, event.thresholds, event.measurements, moved) if verdict == FIRES else ""
    return Judged(event, label, verdict, why)


def what_if(rule: str, events: Sequence[Reviewed], moved: Mapping[str, float], unit: Scalar) -> Outcome:
    """`moved`: the thresholds the proposal changes, in `unit` (the newest trace's); the rest stay each event's."""
    rows = [_judge(rule, event, moved, unit) for event in events]
    return Outcome(
        rows=rows,
        now=precision.tally(r.event for r in rows),
        kept=precision.tally(r.event for r in rows if r.verdict == FIRES),
        dropped=precision.tally(r.event for r in rows if r.verdict == SILENT),
        unknown=precision.tally(r.event for r in rows if r.verdict == UNKNOWN),
        other_unit=sum(1 for r in rows if r.unit_note),
    )
