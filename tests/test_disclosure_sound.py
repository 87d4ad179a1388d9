"""Issue 23 §4: hiding small figures holds against every published sum, checked as a reader would attack it (a
linear program per hidden cell, written here apart from the code under test); the threshold comes from the
settings, never from the request; points and medians read "hidden"."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import httpx
import pytest
from scipy.optimize import linprog

from central.db import transaction
from central.settings import CentralSettings
from central.tables import Infraction
from central.transparency import figures as fig
from central.transparency.disclosure import Disclosed, disclose
from central.transparency.queries import Period
from tests.console_support import make_central, seed, serve
from tests.test_console_hardening import page_session

PERIOD = Period("north", datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
REASONS = ["k1", "k2", "k3", "k4"]


def table(groups: dict[str, list[int]]) -> fig.Figures:
    """Rejections per reason k1..k4 for each group (camera); 'rejected' is their sum, the total row the columns'."""
    metrics = fig.metrics(REASONS)
    rows = []
    for name, counts in groups.items():
        cells = {m.key: fig.Cell() for m in metrics}
        for reason, count in zip(REASONS, counts, strict=True):
            cells[fig.REJECTED_PREFIX + reason] = fig.Cell(count, count)
        cells["rejected"] = fig.Cell(sum(counts), sum(counts))
        rows.append(fig.Group(name, "jaywalking", cells))
    total = fig.Group(*fig.ALL, {m.key: fig.Cell() for m in metrics})
    for group in rows:
        for key, cell in group.cells.items():
            total.cells[key].value += cell.value
            total.cells[key].basis += cell.basis
    return fig.Figures(PERIOD, PERIOD.end, metrics, rows, total, [], [])


def reader_ranges(report: Disclosed) -> dict[tuple[int, str], float]:
    """For every hidden additive figure, how far apart its least and greatest value are given what is published:
    every shown figure, each column's total, each row's rejections as the sum of its reasons, hidden >= 1."""
    rows = [*report.rows, report.total]
    keys = [m.key for m in report.figures.metrics if m.key != fig.MEDIAN]
    reasons = [k for k in keys if k.startswith(fig.REJECTED_PREFIX)]
    sums = [((len(rows) - 1, k), [(i, k) for i in range(len(rows) - 1)]) for k in keys]
    sums += [((i, "rejected"), [(i, k) for k in reasons]) for i in range(len(rows))]
    hidden = [(i, k) for i, row in enumerate(rows) for k in keys if row.cells[k].hidden]
    index = {cell: n for n, cell in enumerate(hidden)}
    a_eq, b_eq = [], []
    for whole, parts in sums:
        coefficients, known = [0.0] * len(hidden), 0.0
        for cell, sign in [(whole, -1.0)] + [(p, 1.0) for p in parts]:
            if cell in index:
                coefficients[index[cell]] += sign
            else:
                known += sign * rows[cell[0]].cells[cell[1]].value
        a_eq.append(coefficients)
        b_eq.append(-known)
    ranges = {}
    for cell, n in index.items():
        goal = [0.0] * len(hidden)
        goal[n] = 1.0
        low = linprog(goal, A_eq=a_eq, b_eq=b_eq, bounds=[(1, None)] * len(hidden), method="highs")
        high = linprog([-g for g in goal], A_eq=a_eq, b_eq=b_eq, bounds=[(1, None)] * len(hidden), method="highs")
        assert low.status == 0, "what is published must be consistent"
        ranges[cell] = float("inf") if high.status == 3 else -high.fun - low.fun
    return ranges


def test_the_issues_example_is_protected() -> None:
    """g2's hidden third reason was col(k3) - col(k4) - row(g3) - row(g4) = 1 exactly."""
    report = disclose(
        table(
            {
                "g1": [2, 3, 0, 0],
                "g2": [3, 2, 1, 0],
                "g3": [0, 0, 2, 3],
                "g4": [0, 0, 3, 2],
                "g5": [40, 30, 20, 50],
            }
        ),
        5,
    )
    g2 = report.rows[1].cells[fig.REJECTED_PREFIX + "k3"]
    assert g2.hidden and g2.text() == "hidden"
    ranges = reader_ranges(report)
    assert ranges and all(width >= 5 for width in ranges.values()), ranges
    assert all(report.figures.groups[i].cells[k].value >= 1 for i, k in ranges if i < len(report.rows))


@pytest.mark.parametrize("seed_value", range(12))
def test_random_tables_leave_no_hidden_figure_narrower_than_the_threshold(seed_value: int) -> None:
    rng = random.Random(seed_value)
    groups = {f"cam-{i}": [rng.choice([0, 0, 1, 2, 3, 4, 6, 9, 15]) for _ in REASONS] for i in range(rng.randint(2, 6))}
    report = disclose(table(groups), 5)
    for cell, width in reader_ranges(report).items():
        assert width >= 5, (groups, cell, width)


def test_points_and_median_times_read_hidden() -> None:
    figures = table({"g1": [1, 0, 0, 0], "g2": [9, 9, 9, 9]})
    figures.groups[0].cells["points_deducted"] = fig.Cell(6, 2)
    figures.groups[0].cells[fig.MEDIAN] = fig.Cell(42.0, 2)
    shown = disclose(figures, 5).rows[0].cells
    assert shown["points_deducted"].text() == "hidden" and shown[fig.MEDIAN].text() == "hidden"


def test_the_threshold_comes_from_the_settings_not_the_request(db_url: str, tmp_path) -> None:
    with pytest.raises(ValueError, match="greater than or equal to 5"):
        CentralSettings(disclosure_threshold=1)
    central = make_central(db_url, tmp_path)
    event_id = seed(central, site="aboda")
    # Received in November 2025: a download is a whole month that has ended (issue 23 §4c).
    with transaction(central.factory) as session:
        session.get(Infraction, event_id).received_at = datetime(2025, 11, 10, tzinfo=UTC)  # type: ignore[union-attr]
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        page_session(client, "audrey")
        csv = client.get("/reports/download?site=aboda&from=2025-11-01&format=csv&threshold=1").text
    assert "received,1" not in csv and "received,hidden" in csv
