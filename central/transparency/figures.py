"""The transparency report's arithmetic, pure: rows from `queries` in, figures per camera and rule out.

What each figure counts, for one site and the period [start, end):
- received: events that reached central in the period; quarantined: refused messages whose topic names the
  site, per camera (their rule is not read: a refused message is not trusted);
- confirmed / rejected (by reason): decisions that took effect in the period (a reopened event decided again
  counts again); second reviews that disagreed: rejections by the second reviewer of a referred confirmation;
- appeals filed, and appeals decided in the period, granted (deduction reversed) or refused (it stands);
- points deducted and reversed by ledger entries written in the period; points expired: deductions that
  stopped counting in the period (before `as_of`) without having been reversed first;
- evidence purged: evidence files purged under retention in the period, once per camera and rule they served;
- median time to decision: from an event's arrival to the decision that took effect, over the period's
  decisions."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from central.ledger.catalogue import CatalogueVersion
from central.timeutil import as_utc
from central.transparency.queries import Period, ReportRows

QUARANTINE_RULE = "not read (quarantined)"
ALL = ("all cameras", "all rules")
REJECTED_PREFIX = "rejected: "
RETIRED_REASON = "a reason no longer offered"
MEDIAN = "median_decision_s"
APPEAL_OUTCOMES = {"reversed": "appeals_granted", "upheld": "appeals_refused"}
"""An appeal's stored state, named by the deduction ("upheld": it stands), to the figure named by the appeal."""


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str
    """"count", "points" (a sum whose basis is the number of entries) or "seconds" (a median)."""


def metrics(reject_reasons: Sequence[str]) -> list[Metric]:
    """Every figure in report order; one rejection row per configured reason (and one for reasons since
    dropped from the settings)."""
    reasons = [Metric(REJECTED_PREFIX + r, f"rejected: {r}", "count") for r in [*reject_reasons, RETIRED_REASON]]
    return [
        Metric("received", "events received", "count"),
        Metric("quarantined", "messages quarantined", "count"),
        Metric("confirmed", "confirmed", "count"),
        Metric("rejected", "rejected", "count"),
        *reasons,
        Metric("second_review_disagreed", "second reviews that disagreed", "count"),
        Metric("appeals_filed", "appeals filed", "count"),
        Metric("appeals_granted", "appeals granted (deduction reversed)", "count"),
        Metric("appeals_refused", "appeals refused (deduction stands)", "count"),
        Metric("points_deducted", "points deducted", "points"),
        Metric("points_reversed", "points reversed", "points"),
        Metric("points_expired", "points expired", "points"),
        Metric("evidence_purged", "evidence files purged", "count"),
        Metric(MEDIAN, "median time to decision", "seconds"),
    ]


@dataclass
class Cell:
    value: float = 0
    basis: int = 0
    """How many records stand behind the value: what decides whether it is too small to show."""

    def add(self, value: float = 1) -> None:
        self.value += value
        self.basis += 1


@dataclass
class Group:
    camera: str
    rule: str
    cells: dict[str, Cell] = field(default_factory=dict)


@dataclass(frozen=True)
class Figures:
    period: Period
    as_of: datetime
    metrics: list[Metric]
    groups: list[Group]
    """Sorted by camera, then rule."""
    total: Group
    rule_versions: list[tuple[str, str]]
    catalogue: list[CatalogueVersion]
    """The catalogue versions in force at some moment of the period, oldest first."""


def in_force(
    versions: Iterable[CatalogueVersion], period: Period, used: Iterable[int | None]
) -> list[CatalogueVersion]:
    """The newest version published before the period starts, every version published during it, and every
    version that priced a deduction of the period."""
    ordered = sorted(versions, key=lambda v: v.version)
    before = [v.version for v in ordered if as_utc(v.created_at) < period.start]
    wanted = (
        set(before[-1:]) | set(used) | {v.version for v in ordered if period.start <= as_utc(v.created_at) < period.end}
    )
    return [v for v in ordered if v.version in wanted]


def compute(rows: ReportRows, reject_reasons: Sequence[str], as_of: datetime) -> Figures:
    """The figures of `rows` as they stand at `as_of` (points expire only once their time has passed)."""
    period = rows.period
    wanted = metrics(reject_reasons)
    groups: dict[tuple[str, str], Group] = {}
    waits: dict[tuple[str, str], list[float]] = {}

    def cell(camera: str, rule: str, key: str) -> Cell:
        group = groups.setdefault((camera, rule), Group(camera, rule, {m.key: Cell() for m in wanted}))
        return group.cells[key]

    def during(moment: datetime | None) -> bool:
        return moment is not None and period.start <= as_utc(moment) < period.end

    for event in rows.received:
        cell(event.camera, event.rule, "received").add()
    for camera in rows.quarantined_cameras:
        cell(camera, QUARANTINE_RULE, "quarantined").add()
    for decision in rows.decisions:
        where = (decision.camera, decision.rule)
        if decision.action == "confirm":
            cell(*where, "confirmed").add()
        else:
            cell(*where, "rejected").add()
            reason = decision.reason if decision.reason and decision.reason in reject_reasons else RETIRED_REASON
            cell(*where, REJECTED_PREFIX + reason).add()
            if decision.from_state == "second_review":
                cell(*where, "second_review_disagreed").add()
        waits.setdefault(where, []).append((decision.at - decision.received_at).total_seconds())
    for appeal in rows.appeals:
        if during(appeal.filed_at):
            cell(appeal.camera, appeal.rule, "appeals_filed").add()
        if during(appeal.decided_at) and appeal.state in APPEAL_OUTCOMES:
            cell(appeal.camera, appeal.rule, APPEAL_OUTCOMES[appeal.state]).add()
    for entry in rows.ledger:
        key = "points_deducted" if entry.kind == "deduction" else "points_reversed"
        cell(entry.camera, entry.rule, key).add(abs(entry.points))
    for deduction in rows.expiring:
        expires = as_utc(deduction.expires_at)
        reversed_first = deduction.reversed_at is not None and as_utc(deduction.reversed_at) <= expires
        if expires < as_of and not reversed_first:
            cell(deduction.camera, deduction.rule, "points_expired").add(deduction.points)
    for purge in rows.purged:
        for camera, rule in purge.groups:
            cell(camera, rule, "evidence_purged").add()

    for where, seconds in waits.items():
        groups[where].cells[MEDIAN] = Cell(statistics.median(seconds), len(seconds))
    total = Group(*ALL, {m.key: Cell() for m in wanted})
    for group in groups.values():
        for key, value in group.cells.items():
            if key != MEDIAN:
                total.cells[key].value += value.value
                total.cells[key].basis += value.basis
    every_wait = [s for seconds in waits.values() for s in seconds]
    if every_wait:
        total.cells[MEDIAN] = Cell(statistics.median(every_wait), len(every_wait))
    return Figures(
        period=period,
        as_of=as_of,
        metrics=wanted,
        groups=[groups[key] for key in sorted(groups)],
        total=total,
        rule_versions=sorted({(e.rule, e.rule_version) for e in rows.received}),
        catalogue=in_force(rows.catalogue, period, (e.catalogue_version for e in rows.ledger)),
    )
