"""Re-judging a stored rule trace under other thresholds. Pure.

A trace holds the thresholds the edge ran with and what it measured when it reported. Only some thresholds
can be judged again from that alone; the others shape what was measured (how a crossing is cut into pieces,
which detections are used, who owns an item), so changing them needs a replay of footage. How exact a rule's
re-judged verdict is, is its spec's `trace_tells` (below, shown on the Rules page).

Whatever the thresholds, events the current ones never fired never reached central: a looser proposal can
keep events, never find new ones. That needs a replay."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from models.infraction import Scalar

Verdict = Literal["fires", "does not fire", "cannot tell"]
FIRES: Verdict = "fires"
SILENT: Verdict = "does not fire"
UNKNOWN: Verdict = "cannot tell"


@dataclass(frozen=True)
class Knob:
    """A threshold that can be judged again from a trace."""

    threshold: str
    """Its name in the trace."""
    measurement: str
    config: str
    """Its key in the camera file's `rules.<rule>` section."""
    metric_config: str | None = None
    """Its key when the trace's unit is metres (a calibrated camera)."""
    words: str = ""

    def config_key(self, unit: Scalar) -> str:
        return self.metric_config if unit == "m" and self.metric_config else self.config

    @property
    def in_trace_unit(self) -> bool:
        """A distance in the trace's unit (frame widths, or metres on a calibrated camera): a value in one unit
        says nothing about a trace in the other."""
        return self.metric_config is not None


@dataclass(frozen=True)
class RuleSpec:
    knobs: tuple[Knob, ...]
    replay_only: tuple[str, ...]
    """Thresholds that a replay of footage must judge, with why."""
    judge: Callable[[Mapping[str, float], Mapping[str, Scalar], Mapping[str, float]], Verdict]
    """(thresholds in force, measurements, proposed thresholds) -> verdict under the proposal."""
    tests: Callable[[Mapping[str, Scalar], Mapping[str, float]], list[str]]
    """(measurements, proposed thresholds) -> the tests that pass, in words: which one fires an event."""
    trace_tells: str
    """How much a trace can tell a what-if, in words for the Rules page: whether its verdict is exact."""

    def replay_only_names(self) -> list[tuple[str, str]]:
        """Each threshold only a replay can judge, with why, one per name."""
        rows = []
        for line in self.replay_only:
            names, why = line.split(":", 1)
            rows += [(name.strip(), why.strip()) for name in names.split(",")]
        return rows


def _number(value: Scalar) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _jaywalking(_old: Mapping[str, float], measured: Mapping[str, Scalar], new: Mapping[str, float]) -> Verdict:
    depth, duration, move = (_number(measured.get(k)) for k in ("max_depth", "duration_s", "max_move"))
    if depth is None or duration is None or move is None:
        return UNKNOWN
    if depth < new["min_depth"]:
        return SILENT
    by_time = duration >= new["min_duration_s"] and move >= new["min_move"]
    return FIRES if by_time or move >= new["min_distance"] else SILENT


def _jaywalking_tests(measured: Mapping[str, Scalar], new: Mapping[str, float]) -> list[str]:
    """The tests of a crossing that pass under `new`, in words with the measurement beside its threshold."""
    depth, duration, move = (_number(measured.get(k)) for k in ("max_depth", "duration_s", "max_move"))
    if depth is None or duration is None or move is None or depth < new["min_depth"]:
        return []
    passed = []
    if duration >= new["min_duration_s"] and move >= new["min_move"]:
        passed.append(
            f"time test: in the road {duration:g} s (needs {new['min_duration_s']:g} s), "
            f"moved {move:g} (needs {new['min_move']:g})"
        )
    if move >= new["min_distance"]:
        passed.append(f"distance test: moved {move:g} (needs {new['min_distance']:g}, however brief)")
    return passed


def _littering_tests(measured: Mapping[str, Scalar], new: Mapping[str, float]) -> list[str]:
    static, away = (_number(measured.get(k)) for k in ("static_s", "owner_away_s"))
    if static is None or away is None:
        return []
    return [
        f"item lay still {static:g} s (needs {new['min_static_s']:g} s), "
        f"owner away {away:g} s (needs {new['grace_s']:g} s)"
    ]


def _littering(old: Mapping[str, float], measured: Mapping[str, Scalar], new: Mapping[str, float]) -> Verdict:
    verdict = FIRES
    for threshold, measurement in (("min_static_s", "static_s"), ("grace_s", "owner_away_s")):
        value = _number(measured.get(measurement))
        if value is None:
            return UNKNOWN
        if value < new[threshold] and new[threshold] > old[threshold]:
            verdict = UNKNOWN  # stricter than what was measured at the report: the item's later life is not known
    return verdict


RULES: dict[str, RuleSpec] = {
    "jaywalking": RuleSpec(
        knobs=(
            Knob("min_duration_s", "duration_s", "min_duration_s", words="time in the road (s)"),
            Knob("min_move", "max_move", "min_move", "min_move_m", "move a crossing by time needs"),
            Knob("min_distance", "max_move", "min_distance", "min_distance_m", "move that counts however brief"),
            Knob("min_depth", "max_depth", "min_depth", words="depth into the road (frame widths)"),
        ),
        replay_only=(
            "exit_grace_s: cuts tracks into crossings",
            "id_switch_s, id_switch_distance: join tracks across tracker id switches",
            "min_person_confidence: decides which detections are people",
            "max_crossing_s: reports a long crossing before it ends",
        ),
        judge=_jaywalking,
        tests=_jaywalking_tests,
        trace_tells="A crossing's trace holds the whole crossing, so a re-judged verdict is exact (except for a "
        "crossing still under way after max_crossing_s, which is reported before it ends).",
    ),
    "littering": RuleSpec(
        knobs=(
            Knob("min_static_s", "static_s", "min_static_s", words="time the item lay still (s)"),
            Knob("grace_s", "owner_away_s", "grace_s", words="time the owner was away (s)"),
        ),
        replay_only=(
            "owner_distance: decides who owns the item and when they count as away, frame by frame",
            "owner_window_s: decides who owns the item",
            "min_person_confidence: decides which detections are people",
            "static.*: the background models that find items",
        ),
        judge=_littering,
        tests=_littering_tests,
        trace_tells="Littering is reported at the first moment its conditions hold, so a trace shows the times at "
        "that moment: a looser value would still have fired, a stricter one above what was measured cannot be told "
        "from the trace.",
    ),
}


def current(thresholds: Mapping[str, Scalar], rule: str) -> dict[str, float]:
    """The re-judgeable thresholds of a trace, as numbers (missing or odd values left out)."""
    spec = RULES[rule]
    values = {k.threshold: _number(thresholds.get(k.threshold)) for k in spec.knobs}
    return {name: value for name, value in values.items() if value is not None}


def rejudge(
    rule: str, thresholds: Mapping[str, Scalar], measurements: Mapping[str, Scalar], proposed: Mapping[str, float]
) -> Verdict:
    """The verdict on one stored trace if `proposed` (some re-judgeable thresholds) had been in force; the
    trace's own values stand for the rest. A trace without the numbers the rule compares cannot be told."""
    spec = RULES[rule]
    old = current(thresholds, rule)
    if len(old) != len(spec.knobs):
        return UNKNOWN
    unknown = set(proposed) - {k.threshold for k in spec.knobs}
    if unknown:
        raise ValueError(f"cannot re-judge {', '.join(sorted(unknown))} of {rule} from a trace; it needs a replay")
    return spec.judge(old, measurements, {**old, **proposed})


def fired_by(
    rule: str, thresholds: Mapping[str, Scalar], measurements: Mapping[str, Scalar], proposed: Mapping[str, float]
) -> str:
    """Which test fires the event under `proposed` (the trace's own values for the rest), in words; "" when
    none does or the trace cannot tell."""
    spec = RULES[rule]
    old = current(thresholds, rule)
    if len(old) != len(spec.knobs):
        return ""
    return "; ".join(spec.tests(measurements, {**old, **proposed}))
