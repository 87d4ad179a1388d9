"""Precision from reviews, pure: a confirmed event is a true alarm; one rejected as not an infraction or as the
wrong type is a false alarm; other rejections (unclear evidence, a duplicate, an exemption, a camera fault)
say nothing about the rule's thresholds and are left out of the ratio. A confirmation reversed on appeal is no
longer a true alarm; it counts by the appeal's reason (a false alarm only for a reason above)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from central.tuning.reviewed import Reviewed

FALSE_ALARM_REASONS = frozenset({"not an infraction", "wrong infraction type"})
TRUE = "confirmed"
FALSE = "false alarm"
OTHER = "rejected for another reason"


def label(event: Reviewed) -> str:
    if event.decision == "confirm":
        return TRUE
    return FALSE if event.reason in FALSE_ALARM_REASONS else OTHER


@dataclass(frozen=True)
class Tally:
    confirmed: int = 0
    false_alarms: int = 0
    other: int = 0

    @property
    def count(self) -> int:
        return self.confirmed + self.false_alarms + self.other

    @property
    def precision(self) -> float | None:
        judged = self.confirmed + self.false_alarms
        return self.confirmed / judged if judged else None

    def plus(self, kind: str) -> Tally:
        return Tally(self.confirmed + (kind == TRUE), self.false_alarms + (kind == FALSE), self.other + (kind == OTHER))


def tally(events: Iterable[Reviewed]) -> Tally:
    total = Tally()
    for event in events:
        total = total.plus(label(event))
    return total


def by_month(events: Iterable[Reviewed]) -> list[tuple[str, Tally]]:
    """(YYYY-MM of the events' start, tally), oldest month first."""
    months: dict[str, Tally] = {}
    for event in events:
        month = event.started_at.strftime("%Y-%m")
        months[month] = months.get(month, Tally()).plus(label(event))
    return sorted(months.items())
