"""The capacity model of docs/scale.md: from measured figures (evidence bytes per event, PostgreSQL bytes per
event, one worker's ingest rate) and stated assumptions (events per camera and hour, peak factor, review
delay, retention settings) to what N cameras need. Arithmetic only; `curbwatch bench capacity` measures the
inputs and prints the table."""

from __future__ import annotations

import math
from dataclasses import dataclass

DAY_S = 86_400


@dataclass(frozen=True)
class Measured:
    evidence_bytes_per_event: float
    evidence_files_per_event: float
    pg_bytes_per_event: float
    """Rows of a stored and reviewed event, indexes and TOAST included; rows are kept for good."""
    worker_messages_per_s: float
    """What one `central run` worker stores flat out into PostgreSQL (`bench ingest`)."""


@dataclass(frozen=True)
class Assumptions:
    events_per_camera_hour: float = 4.0
    peak_factor: float = 3.0
    """Busiest hour over the daily mean: daytime traffic, rush hours."""
    worker_utilisation: float = 0.5
    """Share of a worker's measured rate planned for, leaving room for a worker or host to fail."""
    put_ms: float = 30.0
    """One evidence upload to the object store, a round trip a worker waits for (stated, not measured: it is
    the network between the workers and the store)."""
    review_days: float = 2.0
    """Days from arrival to a reviewer's decision."""
    retention_rejected_days: int = 30
    appeal_window_days: int = 30


@dataclass(frozen=True)
class Row:
    cameras: int
    events_per_s: float
    peak_messages_per_s: float
    evidence_gb_per_day: float
    evidence_mbit_per_s: float
    evidence_tb_kept: float
    workers: int
    pg_gb_per_year: float


def evidence_days_kept(assumptions: Assumptions) -> float:
    """How long evidence stays: until the decision, then until retention purges it (rejected after
    retention_rejected_days, confirmed once the appeal window has closed); the longer of the two is planned for."""
    return assumptions.review_days + max(assumptions.retention_rejected_days, assumptions.appeal_window_days)


def row(cameras: int, measured: Measured, assumptions: Assumptions) -> Row:
    events_per_s = cameras * assumptions.events_per_camera_hour / 3600
    # Each evidence file travels as an MQTT message of its own, beside the event that lists it.
    peak_messages = events_per_s * assumptions.peak_factor * (1 + measured.evidence_files_per_event)
    per_day = events_per_s * DAY_S * measured.evidence_bytes_per_event
    # A worker's time per event: its messages at the measured rate, plus one upload per evidence file.
    busy_s = (1 + measured.evidence_files_per_event) / measured.worker_messages_per_s
    busy_s += measured.evidence_files_per_event * assumptions.put_ms / 1000
    workers = math.ceil(events_per_s * assumptions.peak_factor * busy_s / assumptions.worker_utilisation)
    return Row(
        cameras=cameras,
        events_per_s=events_per_s,
        peak_messages_per_s=peak_messages,
        evidence_gb_per_day=per_day / 1e9,
        evidence_mbit_per_s=per_day * 8 / DAY_S / 1e6,
        evidence_tb_kept=per_day * evidence_days_kept(assumptions) / 1e12,
        # Two at least: one host lost must not stop ingest.
        workers=max(2, workers),
        pg_gb_per_year=events_per_s * DAY_S * 365 * measured.pg_bytes_per_event / 1e9,
    )


HEADER = (
    "| cameras | events/s (mean) | messages/s (peak) | evidence GB/day | uplink Mbit/s (mean) "
    "| evidence kept TB | workers | PostgreSQL GB/year |"
)


def table(cameras: list[int], measured: Measured, assumptions: Assumptions) -> str:
    """The capacity table as Markdown."""
    lines = [HEADER, "|" + "---:|" * 8]
    for r in (row(n, measured, assumptions) for n in cameras):
        lines.append(
            f"| {r.cameras:,} | {r.events_per_s:.2f} | {r.peak_messages_per_s:.1f} | {r.evidence_gb_per_day:.1f} "
            f"| {r.evidence_mbit_per_s:.1f} | {r.evidence_tb_kept:.2f} | {r.workers} | {r.pg_gb_per_year:.1f} |"
        )
    return "\n".join(lines)
