"""A rule trace in plain words: each threshold beside the measurement it judged, with pass or fail ("in the road
5.8 s, needs at least 1.0 s"). Pure, so the edge's replay report and the central console say the same thing.

The pairs follow what the rules compare (edge/rules/jaywalking.py `_qualifies`, edge/rules/littering.py). A
jaywalking crossing counts by time (duration and a short move) or by a long move alone, so one failed pair
beside passed ones is normal. Whatever has no pair is still listed, as it came."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from models.infraction import Scalar

Quantity = Literal["seconds", "distance"]
Kind = Literal["paired", "threshold", "measurement"]

AT_LEAST = (operator.ge, "at least")
AT_MOST = (operator.le, "at most")
MORE_THAN = (operator.gt, "more than")


@dataclass(frozen=True)
class Pairing:
    threshold: str
    measurement: str
    words: str
    """What was measured and what it needed, with `{measured}` and `{needed}` where the values go."""
    need: tuple[Callable[[float, float], bool], str]
    quantity: Quantity
    absent: str = "{measurement} was not measured; needs {needed}"
    """Said instead when the measurement is null (the owner out of view, say)."""
    absent_passes: bool | None = None
    """How the rule judged a null measurement; None where it judged nothing."""


PAIRINGS: tuple[Pairing, ...] = (
    Pairing("min_depth", "max_depth", "reached {measured} into the road, needs {needed}", AT_LEAST, "distance"),
    Pairing("min_duration_s", "duration_s", "in the road {measured}, needs {needed}", AT_LEAST, "seconds"),
    Pairing(
        "min_move", "max_move", "moved {measured} from where they entered; a crossing by time needs {needed}",
        AT_LEAST, "distance",
    ),
    Pairing(
        "min_distance", "max_move", "moved {measured} from where they entered; a move of {needed} counts however brief",
        AT_LEAST, "distance",
    ),
    Pairing("min_static_s", "static_s", "the item lay still {measured}, needs {needed}", AT_LEAST, "seconds"),
    Pairing("grace_s", "owner_away_s", "the owner was away {measured}, needs {needed}", AT_LEAST, "seconds"),
    Pairing(
        "owner_distance", "owner_distance_at_drop", "the owner was {measured} from the item as it appeared, needs "
        "{needed}", AT_MOST, "distance", "no owner was seen near the item as it appeared",
    ),
    Pairing(
        "owner_distance", "owner_distance_now", "the owner was {measured} from the item when reported, needs {needed}",
        MORE_THAN, "distance", "the owner was out of view when reported, which counts as away", True,
    ),
)  # fmt: skip


@dataclass(frozen=True)
class TraceLine:
    text: str
    passed: bool | None
    """None where nothing was judged: a value without a pair, or a null measurement the rule did not judge."""
    kind: Kind
    keys: tuple[str, ...]


UNIT_WORDS = {"m": "m", "frame_widths": "frame widths"}


def _value(value: Scalar, quantity: Quantity, unit: Scalar) -> str:
    if quantity == "seconds":
        return f"{value:.1f} s"
    return f"{value:.2f} {UNIT_WORDS.get(str(unit), str(unit or ''))}".rstrip()


def _number(value: Scalar) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def trace_lines(thresholds: Mapping[str, Scalar], measurements: Mapping[str, Scalar]) -> list[TraceLine]:
    """Paired lines in the order of `PAIRINGS`, then the thresholds and the measurements that pair with nothing."""
    unit = measurements.get("unit", thresholds.get("unit"))
    lines: list[TraceLine] = []
    used: set[str] = set()
    for pair in PAIRINGS:
        limit = thresholds.get(pair.threshold)
        if pair.measurement not in measurements or not _number(limit):
            continue
        measured = measurements[pair.measurement]
        if measured is not None and not _number(measured):
            continue
        compare, need_words = pair.need
        needed = f"{need_words} {_value(limit, pair.quantity, unit)}"
        if measured is None:
            text = pair.absent.format(measurement=pair.measurement, needed=needed)
            passed = pair.absent_passes
        else:
            text = pair.words.format(measured=_value(measured, pair.quantity, unit), needed=needed)
            passed = bool(compare(float(measured), float(limit)))  # type: ignore[arg-type]
        lines.append(TraceLine(text, passed, "paired", (pair.threshold, pair.measurement)))
        used |= {pair.threshold, pair.measurement} | ({"unit"} if pair.quantity == "distance" else set())
    unpaired: tuple[tuple[Kind, Mapping[str, Scalar]], ...] = (("threshold", thresholds), ("measurement", measurements))
    for kind, values in unpaired:
        lines += [
            TraceLine(f"{name} {value}", None, kind, (name,)) for name, value in values.items() if name not in used
        ]
    return lines
