"""Which figures the published report may show. Pure.

A figure that rests on 1 to `threshold - 1` records is hidden ("< 5") so that nobody can be singled out: a
count, a points sum over that few ledger entries, a median over that few decisions. A sum in the report
(a column's total over cameras and rules, a rejection count over its reasons) with exactly one hidden cell
would give that cell back by subtraction, so each such sum gets a second hidden cell: its total if that is
still shown, else its smallest shown part. This stops plain subtraction; it does not promise that no
combination of several sums could narrow a hidden cell down (see docs/review-ledger.md)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from central.transparency.figures import MEDIAN, REJECTED_PREFIX, Figures, Group

SMALL = "small"
DERIVABLE = "derivable"
DEFAULT_THRESHOLD = 5

Key = tuple[int, str]
"""(row, metric): rows are the groups in order, then the total."""


@dataclass(frozen=True)
class Shown:
    value: float | None
    """None when hidden."""
    hidden: str | None = None
    """SMALL or DERIVABLE when hidden."""

    def text(self, threshold: int) -> str:
        if self.hidden == SMALL:
            return f"< {threshold}"
        if self.hidden == DERIVABLE:
            return "hidden"
        return _number(self.value)


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


def disclose(figures: Figures, threshold: int = DEFAULT_THRESHOLD) -> Disclosed:
    if threshold < 1:
        raise ValueError("the threshold must be at least 1")
    rows = [*figures.groups, figures.total]
    keys = [m.key for m in figures.metrics]
    hidden: dict[Key, str] = {
        (i, key): SMALL for i, row in enumerate(rows) for key in keys if 0 < row.cells[key].basis < threshold
    }
    relations = list(_sums(figures.groups, keys))
    changed = True
    while changed:
        changed = False
        for whole, parts in relations:
            cells = [whole, *parts]
            if sum(cell in hidden for cell in cells) != 1:
                continue
            if whole not in hidden:
                hidden[whole] = DERIVABLE
            else:
                shown = [p for p in parts if p not in hidden and rows[p[0]].cells[p[1]].value]
                if not shown:
                    continue  # every other part is zero: the hidden whole equals the hidden part, still hidden
                smallest = min(shown, key=lambda p: rows[p[0]].cells[p[1]].value)
                hidden[smallest] = DERIVABLE
            changed = True

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
