"""Which figures the published report may show. Pure.

A figure that rests on 1 to `threshold - 1` records (a count, a points sum over that few ledger entries, a
median over that few decisions) is hidden so that nobody can be singled out. The report also publishes sums: a
column's total over cameras and rules, a rejection count over its reasons. Hiding one cell of a sum is undone by
subtraction, and hiding a few can still be undone by combining several sums (issue 23 §4: a hidden cell linking
two groups of hidden cells). So hiding is checked the way a reader would attack it: for every hidden cell of a
sum, the smallest and the largest value it can take given every figure shown, every published sum and that a
hidden figure is at least 1 (zeros are shown) are found by linear programming, and while one of them is not at
least `threshold` apart, the smallest shown figure it shares a sum with is hidden too. The sums form a network
(each cell is in one column sum and at most one row sum), so these bounds are whole numbers a reader could reach.

Every hidden figure reads "hidden", whatever the reason: "< 5" would itself narrow the figure down, and for a
points sum or a median it reads as a value."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from scipy.optimize import linprog

from central.transparency.figures import MEDIAN, REJECTED_PREFIX, Figures, Group

SMALL = "small"
DERIVABLE = "derivable"
DEFAULT_THRESHOLD = 5
HIDDEN = "hidden"

Key = tuple[int, str]
"""(row, metric): rows are the groups in order, then the total."""


@dataclass(frozen=True)
class Shown:
    value: float | None
    """None when hidden."""
    hidden: str | None = None
    """SMALL or DERIVABLE when hidden."""

    def text(self) -> str:
        return HIDDEN if self.hidden else _number(self.value)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


@dataclass(frozen=True)
class DisclosedRow:
    camera: str
    rule: str
    cells: dict[str, Shown]


@dataclass(frozen=True)
class Disclosed:
    figures: Figures
    threshold: int
    rows: list[DisclosedRow]
    total: DisclosedRow


def _sums(groups: list[Group], metric_keys: list[str]) -> Iterator[tuple[Key, list[Key]]]:
    """Every (whole, parts) relation a reader could subtract along."""
    total = len(groups)
    for key in metric_keys:
        if key != MEDIAN:
            yield (total, key), [(i, key) for i in range(total)]
    reasons = [k for k in metric_keys if k.startswith(REJECTED_PREFIX)]
    for row in range(total + 1):
        yield (row, "rejected"), [(row, k) for k in reasons]


def _range(values: dict[Key, float], hidden: set[Key], relations: list[tuple[Key, list[Key]]], cell: Key) -> float:
    """How far apart the smallest and the largest value of hidden `cell` are, given everything shown."""
    unknown = sorted(k for k in hidden if k in values)
    column = {key: i for i, key in enumerate(unknown)}
    equations, rhs = [], []
    for whole, parts in relations:
        if not any(k in column for k in (whole, *parts)):
            continue
        coefficients = [0.0] * len(unknown)
        constant = 0.0
        for key, sign in ((whole, -1.0), *((p, 1.0) for p in parts)):
            if key in column:
                coefficients[column[key]] += sign
            else:
                constant += sign * values[key]
        equations.append(coefficients)
        rhs.append(-constant)
    bounds = [(min(1.0, values[k]), None) for k in unknown]
    target = [0.0] * len(unknown)
    target[column[cell]] = 1.0
    low = linprog(target, A_eq=equations or None, b_eq=rhs or None, bounds=bounds, method="highs")
    high = linprog([-t for t in target], A_eq=equations or None, b_eq=rhs or None, bounds=bounds, method="highs")
    if high.status == 3:  # unbounded above: nothing published caps it
        return math.inf
    if low.status != 0 or high.status != 0:
        return 0.0  # cannot be told apart from pinned down: hide more
    return float(-high.fun - low.fun)


def disclose(figures: Figures, threshold: int = DEFAULT_THRESHOLD) -> Disclosed:
    if threshold < 1:
        raise ValueError("the threshold must be at least 1")
    rows = [*figures.groups, figures.total]
    keys = [m.key for m in figures.metrics]
    hidden: dict[Key, str] = {
        (i, key): SMALL for i, row in enumerate(rows) for key in keys if 0 < row.cells[key].basis < threshold
    }
    relations = list(_sums(figures.groups, keys))
    values = {cell: rows[cell[0]].cells[cell[1]].value for _, parts in relations for cell in parts}
    values.update({whole: rows[whole[0]].cells[whole[1]].value for whole, _ in relations})
    while True:
        exposed = next(
            (c for c in sorted(hidden) if c in values and _range(values, set(hidden), relations, c) < threshold), None
        )
        if exposed is None:
            break
        beside = {k for whole, parts in relations if exposed in (whole, *parts) for k in (whole, *parts)}
        shown = [k for k in beside if k not in hidden and values[k]] or [
            k for k in values if k not in hidden and values[k]
        ]
        if not shown:
            break  # every figure of every sum is hidden already
        hidden[min(shown, key=lambda k: (values[k], k))] = DERIVABLE

    def shown_row(index: int, group: Group) -> DisclosedRow:
        cells = {}
        for key in keys:
            cell = group.cells[key]
            if (index, key) in hidden:
                cells[key] = Shown(None, hidden[(index, key)])
            elif key == MEDIAN and not cell.basis:
                cells[key] = Shown(None)
            else:
                cells[key] = Shown(cell.value)
        return DisclosedRow(group.camera, group.rule, cells)

    disclosed = [shown_row(i, group) for i, group in enumerate(rows)]
    return Disclosed(figures, threshold, disclosed[:-1], disclosed[-1])
