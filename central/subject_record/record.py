"""Gathering a subject's record at one site: the ledger entries, each with its event's redacted keyframes, the
rule trace in plain words, the review decisions and their reasons, the appeal and its deadline, and when the
points expire. Reviewers' names and free-text notes stay out: the record says what was decided and why, from
the fixed lists of reasons, not who typed what."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.evidence_store import EvidenceError, EvidenceStore, EvidenceUnavailable
from central.ledger import service as ledger
from central.ledger.tables import Appeal, LedgerEntry
from central.review.tables import ReviewAction
from central.settings import CentralSettings
from central.subject_mark import Point, in_listed_order, keyframe_marks
from central.tables import EvidenceBlob, EvidenceLink, Infraction
from models.rule_trace import TraceLine, trace_lines

log = logging.getLogger(__name__)
SHOWN_ACTIONS = ("confirm", "refer", "reject", "reopen", "appeal", "uphold", "reverse")
ACTION_WORDS = {
    "confirm": "confirmed",
    "refer": "confirmed by a first reviewer, sent to a second",
    "reject": "rejected",
    "reopen": "reopened by a supervisor",
    "appeal": "appeal filed",
    "uphold": "appeal refused: the deduction stands",
    "reverse": "appeal granted: the deduction was withdrawn",
}
# The actions whose reason is picked from a fixed list (the settings' confirm, reject and appeal reasons). A
# reopen's reason is whatever the supervisor typed, and a record shows no one's free text: it may name people.
LISTED_REASON_ACTIONS = frozenset({"confirm", "refer", "reject", "uphold", "reverse"})
MAX_KEYFRAME_BYTES = 2_000_000


@dataclass(frozen=True)
class Keyframe:
    data_uri: str | None
    purged_at: datetime | None
    """Set when retention removed the image; None with no data_uri means it could not be read."""
    mark: Point | None = None
    """Where the person the event is about stood in it (central/subject_mark.py): the page points at them."""


@dataclass(frozen=True)
class Step:
    at: datetime
    words: str
    reason: str | None


@dataclass(frozen=True)
class EntryRecord:
    entry: LedgerEntry
    event: Infraction | None
    trace: list[TraceLine]
    steps: list[Step]
    appeal: Appeal | None
    appeal_closes: datetime | None
    """For a standing deduction: when the window to appeal it closes."""
    standing: bool
    keyframes: list[Keyframe]


@dataclass(frozen=True)
class SubjectRecord:
    subject: str
    site: str
    at: datetime
    balance: int
    entries: list[EntryRecord]


def _keyframe(store: EvidenceStore, blob: EvidenceBlob | None, link: EvidenceLink, mark: Point | None) -> Keyframe:
    if blob is not None and blob.purged_at is not None:
        return Keyframe(None, blob.purged_at)
    try:
        size = store.size(link.sha256)
        if size is None or size > MAX_KEYFRAME_BYTES:
            return Keyframe(None, None)
        data = b"".join(store.read(link.sha256, 0, size))
    except (EvidenceError, EvidenceUnavailable, OSError) as exc:
        log.warning("keyframe %s of %s not readable for a subject record: %s", link.sha256, link.event_id, exc)
        return Keyframe(None, None)
    return Keyframe(f"data:{link.media_type};base64,{base64.b64encode(data).decode('ascii')}", None, mark)


def _keyframes(session: Session, store: EvidenceStore, event: Infraction | None, event_id: str) -> list[Keyframe]:
    """The event's keyframes in the order the camera listed them (the order their times are worked out in), each
    with its mark."""
    links = list(
        session.scalars(select(EvidenceLink).where(EvidenceLink.event_id == event_id, EvidenceLink.role == "keyframe"))
    )
    if event is None:
        return [_keyframe(store, session.get(EvidenceBlob, link.sha256), link, None) for link in links]
    links = in_listed_order(event.payload, links)
    marks = keyframe_marks(event.payload, event.started_at, event.ended_at, len(links))
    return [
        _keyframe(store, session.get(EvidenceBlob, link.sha256), link, mark)
        for link, mark in zip(links, marks, strict=True)
    ]


def gather(
    session: Session, store: EvidenceStore, subject: str, site: str, at: datetime, settings: CentralSettings
) -> SubjectRecord:
    entries = ledger.entries(session, subject_ref=subject, site=site)
    reversed_seqs = {e.reverses for e in entries if e.reverses is not None}
    appeals = {
        a.entry_seq: a for a in session.scalars(select(Appeal).where(Appeal.entry_seq.in_([e.seq for e in entries])))
    }
    records = []
    for entry in entries:
        event = session.get(Infraction, entry.event_id)
        rule = (event.payload.get("rule") or {}) if event is not None else {}
        steps = [
            Step(
                action.at,
                ACTION_WORDS[action.action],
                action.reason if action.action in LISTED_REASON_ACTIONS else None,
            )
            for action in session.scalars(
                select(ReviewAction)
                .where(ReviewAction.event_id == entry.event_id, ReviewAction.action.in_(SHOWN_ACTIONS))
                .order_by(ReviewAction.id)
            )
        ]
        standing = entry.kind == "deduction" and entry.seq not in reversed_seqs
        records.append(
            EntryRecord(
                entry=entry,
                event=event,
                trace=trace_lines(rule.get("thresholds") or {}, rule.get("measurements") or {}),
                steps=steps,
                appeal=appeals.get(entry.seq),
                appeal_closes=entry.created_at + timedelta(days=settings.appeal_window_days) if standing else None,
                standing=standing,
                keyframes=_keyframes(session, store, event, entry.event_id),
            )
        )
    return SubjectRecord(subject, site, at, ledger.balance(session, subject, site, at, settings), records)
