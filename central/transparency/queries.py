"""The one place the transparency report reads the database: plain rows for one site and period, each already
attributed to its event's camera and rule (the infraction type), so the arithmetic in `figures` stays pure.
Nothing read here names a subject, and no free text (notes, appeal reasons) is selected."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from central.ledger import catalogue
from central.ledger.tables import Appeal, LedgerEntry
from central.retention import PurgeRecord
from central.review.tables import ReviewAction
from central.tables import Infraction, QuarantinedMessage
from central.timeutil import as_utc, require_aware
from models.topics import parse_topic_any_prefix

DECISION_ACTIONS = ("confirm", "reject")


@dataclass(frozen=True)
class Period:
    site: str
    start: datetime
    end: datetime
    """Exclusive."""

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).date()


@dataclass(frozen=True)
class Received:
    camera: str
    rule: str
    rule_version: str


@dataclass(frozen=True)
class Decision:
    camera: str
    rule: str
    action: str
    from_state: str
    reason: str | None
    received_at: datetime
    at: datetime


@dataclass(frozen=True)
class AppealRow:
    camera: str
    rule: str
    filed_at: datetime
    state: str
    decided_at: datetime | None


@dataclass(frozen=True)
class LedgerRow:
    camera: str
    rule: str
    kind: str
    points: int
    created_at: datetime
    catalogue_version: int | None


@dataclass(frozen=True)
class Expiring:
    """A deduction whose expiry falls in the period, and when it was reversed, if ever."""

    camera: str
    rule: str
    points: int
    expires_at: datetime
    reversed_at: datetime | None


@dataclass(frozen=True)
class Purged:
    groups: tuple[tuple[str, str], ...]
    """The (camera, rule) of every event of this site the purged blob belonged to."""


@dataclass(frozen=True)
class ReportRows:
    period: Period
    received: Sequence[Received]
    quarantined_cameras: Sequence[str]
    decisions: Sequence[Decision]
    appeals: Sequence[AppealRow]
    ledger: Sequence[LedgerRow]
    expiring: Sequence[Expiring]
    purged: Sequence[Purged]
    catalogue: Sequence[catalogue.CatalogueVersion]


def _in(column: Any, period: Period) -> Any:
    return (column >= period.start) & (column < period.end)


def load(session: Session, period: Period) -> ReportRows:
    period = Period(period.site, require_aware(period.start, "start"), require_aware(period.end, "end"))
    site = Infraction.site == period.site
    received = [
        Received(camera, rule, str((payload.get("rule") or {}).get("version", "unknown")))
        for camera, rule, payload in session.execute(
            select(Infraction.camera_id, Infraction.type, Infraction.payload).where(
                site, _in(Infraction.received_at, period)
            )
        )
    ]
    quarantined = []
    for (topic,) in session.execute(
        select(QuarantinedMessage.topic).where(_in(QuarantinedMessage.received_at, period))
    ):
        # A topic of no camera's (garbage, another application's) belongs to no site's report.
        named = parse_topic_any_prefix(topic)
        if named is not None and named.site == period.site:
            quarantined.append(named.camera)
    decisions = [
        Decision(camera, rule, action, from_state, reason, as_utc(received_at), as_utc(at))
        for camera, rule, action, from_state, reason, received_at, at in session.execute(
            select(
                Infraction.camera_id,
                Infraction.type,
                ReviewAction.action,
                ReviewAction.from_state,
                ReviewAction.reason,
                Infraction.received_at,
                ReviewAction.at,
            )
            .join(Infraction, Infraction.event_id == ReviewAction.event_id)
            .where(site, ReviewAction.action.in_(DECISION_ACTIONS), _in(ReviewAction.at, period))
        )
    ]
    filed_or_decided = _in(Appeal.filed_at, period) | _in(Appeal.decided_at, period)
    appeals = [
        AppealRow(*row)
        for row in session.execute(
            select(Infraction.camera_id, Infraction.type, Appeal.filed_at, Appeal.state, Appeal.decided_at)
            .join(Infraction, Infraction.event_id == Appeal.event_id)
            .where(site, filed_or_decided)
        )
    ]
    ledger = [
        LedgerRow(*row)
        for row in session.execute(
            select(
                Infraction.camera_id,
                Infraction.type,
                LedgerEntry.kind,
                LedgerEntry.points,
                LedgerEntry.created_at,
                LedgerEntry.catalogue_version,
            )
            .join(Infraction, Infraction.event_id == LedgerEntry.event_id)
            .where(LedgerEntry.site == period.site, _in(LedgerEntry.created_at, period))
        )
    ]
    reversal = aliased(LedgerEntry)
    expiring = [
        Expiring(*row)
        for row in session.execute(
            select(
                Infraction.camera_id, Infraction.type, LedgerEntry.points, LedgerEntry.expires_at, reversal.created_at
            )
            .join(Infraction, Infraction.event_id == LedgerEntry.event_id)
            .outerjoin(reversal, reversal.reverses == LedgerEntry.seq)
            .where(
                LedgerEntry.site == period.site, LedgerEntry.kind == "deduction", _in(LedgerEntry.expires_at, period)
            )
        )
    ]
    return ReportRows(
        period=period,
        received=received,
        quarantined_cameras=quarantined,
        decisions=decisions,
        appeals=appeals,
        ledger=ledger,
        expiring=expiring,
        purged=_purged(session, period),
        catalogue=catalogue.versions(session),
    )


def _purged(session: Session, period: Period) -> list[Purged]:
    records = list(session.scalars(select(PurgeRecord.event_ids).where(_in(PurgeRecord.at, period))))
    wanted = {event_id for ids in records for event_id in ids.split(",") if event_id}
    groups: dict[str, tuple[str, str]] = {}
    for chunk in _chunks(sorted(wanted)):
        for event_id, camera, rule in session.execute(
            select(Infraction.event_id, Infraction.camera_id, Infraction.type).where(
                Infraction.site == period.site, Infraction.event_id.in_(chunk)
            )
        ):
            groups[event_id] = (camera, rule)
    result = []
    for ids in records:
        mine = tuple(sorted({groups[e] for e in ids.split(",") if e in groups}))
        if mine:
            result.append(Purged(mine))
    return result


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
