"""Ledger arithmetic, pure: which deductions still count, grouped into capped incidents.

A balance is the number of points that currently count against one subject at one site. It is derived
from the entries every time and never stored:
- a deduction that a later reversal entry names does not count (the reversal is its own entry);
- a deduction stops counting at its `expires_at`;
- deductions of one subject at one site whose infractions start within `incident_window` of the first
  one of their incident form one incident, and an incident counts at most `per_incident_cap` points
  (two cameras seeing the same crossing, or two rules firing on one moment, are one incident)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

DEDUCTION = "deduction"
REVERSAL = "reversal"


class EntryLike(Protocol):
    seq: int
    kind: str
    site: str
    subject_ref: str
    points: int
    occurred_at: datetime
    expires_at: datetime
    reverses: int | None


@dataclass(frozen=True)
class Entry:
    """A ledger entry's arithmetic fields, for hand-written data and tests."""

    seq: int
    kind: str
    site: str
    subject_ref: str
    points: int
    occurred_at: datetime
    expires_at: datetime
    reverses: int | None = None


@dataclass(frozen=True)
class Incident:
    entries: tuple[EntryLike, ...]
    live_points: int
    counted: int


def reversed_seqs(entries: Iterable[EntryLike]) -> set[int]:
    return {entry.reverses for entry in entries if entry.kind == REVERSAL and entry.reverses is not None}


def standing_deductions(entries: Sequence[EntryLike]) -> list[EntryLike]:
    """Deductions no reversal names, expired or not."""
    reversed_ = reversed_seqs(entries)
    return [e for e in entries if e.kind == DEDUCTION and e.seq not in reversed_]


def incidents(
    entries: Sequence[EntryLike], now: datetime, per_incident_cap: int, incident_window: timedelta
) -> list[Incident]:
    """Standing deductions grouped into incidents per (site, subject), oldest first, with the points each
    incident counts at `now` (unexpired points, capped)."""
    by_subject: dict[tuple[str, str], list[EntryLike]] = {}
    for entry in standing_deductions(entries):
        by_subject.setdefault((entry.site, entry.subject_ref), []).append(entry)
    result: list[Incident] = []
    for group in by_subject.values():
        group.sort(key=lambda e: (e.occurred_at, e.seq))
        current: list[EntryLike] = []
        for entry in group:
            if current and entry.occurred_at - current[0].occurred_at > incident_window:
                result.append(_incident(current, now, per_incident_cap))
                current = []
            current.append(entry)
        if current:
            result.append(_incident(current, now, per_incident_cap))
    result.sort(key=lambda incident: (incident.entries[0].occurred_at, incident.entries[0].seq))
    return result


def _incident(entries: list[EntryLike], now: datetime, cap: int) -> Incident:
    live = sum(entry.points for entry in entries if entry.expires_at > now)
    return Incident(entries=tuple(entries), live_points=live, counted=min(live, cap))


def balance(entries: Sequence[EntryLike], now: datetime, per_incident_cap: int, incident_window: timedelta) -> int:
    """Points counting at `now` over `entries` (pass one subject's entries at one site)."""
    return sum(incident.counted for incident in incidents(entries, now, per_incident_cap, incident_window))
