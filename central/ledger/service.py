"""Writing and reading the ledger. Deductions come only from a confirmed review that names a subject
reference; reversals (appeal granted, item reopened) are new entries; balances are derived on read.
Every function works in the caller's transaction and takes `now` (aware UTC)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit, checkpoint, hashchain
from central.chain_store import chain_head, chain_next, lock_chain, note_appended
from central.checkpoint_log import watch
from central.ledger import arithmetic
from central.ledger.tables import Appeal, LedgerEntry
from central.review.errors import ReviewError
from central.review.moves import check_version, current_round, last_of, load_item, move
from central.review.roles import REVIEW_ROLES, Actor, require_role
from central.review.states import Action, State
from central.settings import CentralSettings
from central.timeutil import as_utc, require_aware

CHAIN = "ledger_entries"


class LedgerError(ReviewError):
    """A ledger request the rules refuse."""


def _append(session: Session, now: datetime, **fields: Any) -> LedgerEntry:
    """Append an entry timed `now`, or the entry before's time if that is later (chain_store.chain_next)."""
    lock_chain(session, audit.CHAIN)
    lock_chain(session, CHAIN)
    seq, prev_hash, created = chain_next(session, LedgerEntry, "created_at", now)
    entry = LedgerEntry(seq=seq, created_at=created, prev_hash=prev_hash, **fields)
    entry.hash = hashchain.link_hash(prev_hash, entry.hashed_fields())
    session.add(entry)
    session.flush()
    note_appended(session, CHAIN, seq, entry.hash)
    return entry


def _standing_deduction(session: Session, event_id: str) -> LedgerEntry | None:
    rows = entries(session, event_id=event_id)
    standing = arithmetic.standing_deductions(rows)
    return standing[-1] if standing else None  # type: ignore[return-value]


def record_deduction(session: Session, event_id: str, now: datetime, settings: CentralSettings) -> LedgerEntry:
    """Write the deduction that the item's confirmed review calls for. Everything in the entry comes from
    the stored review (subject reference, reviewers, points and catalogue version), so no caller can
    write a deduction the reviewers did not decide."""
    now = require_aware(now)
    item = load_item(session, event_id)
    if item.review_state != State.CONFIRMED:
        raise LedgerError(f"item {event_id} is {item.review_state}; only a confirmed review writes a deduction")
    actions = current_round(session, event_id)
    confirmation = last_of(actions, Action.CONFIRM)
    if confirmation is None or confirmation.subject_ref is None:
        raise LedgerError(f"the confirmation of {event_id} names no subject reference; nothing is deducted")
    existing = _standing_deduction(session, event_id)
    if existing is not None:
        raise LedgerError(f"item {event_id} already has deduction {existing.seq}")
    referral = last_of(actions, Action.REFER)
    occurred = as_utc(item.started_at)
    watch(session, settings.checkpoint_path)
    entry = _append(
        session,
        now,
        kind=arithmetic.DEDUCTION,
        site=item.site,
        subject_ref=confirmation.subject_ref,
        event_id=event_id,
        infraction_type=item.type,
        points=confirmation.points,
        catalogue_version=confirmation.catalogue_version,
        reverses=None,
        occurred_at=occurred,
        expires_at=occurred + timedelta(days=settings.points_expiry_days),
        decided_by=referral.actor if referral else confirmation.actor,
        second_by=confirmation.actor if referral else None,
        reason=confirmation.reason or "",
    )
    audit.record(
        session,
        entry.second_by or entry.decided_by,
        "ledger.deduction",
        f"ledger:{entry.seq}",
        {"event_id": event_id, "points": entry.points, "catalogue_version": entry.catalogue_version},
        now=now,
    )
    return entry


def _reverse(session: Session, original: LedgerEntry, by: str, reason: str, now: datetime) -> LedgerEntry:
    entry = _append(
        session,
        now,
        kind=arithmetic.REVERSAL,
        site=original.site,
        subject_ref=original.subject_ref,
        event_id=original.event_id,
        infraction_type=original.infraction_type,
        points=-original.points,
        catalogue_version=original.catalogue_version,
        reverses=original.seq,
        occurred_at=original.occurred_at,
        expires_at=original.expires_at,
        decided_by=by,
        second_by=None,
        reason=reason,
    )
    audit.record(
        session, by, "ledger.reversal", f"ledger:{entry.seq}", {"reverses": original.seq, "reason": reason}, now=now
    )
    return entry


def reverse_event(session: Session, event_id: str, by: str, reason: str, now: datetime) -> LedgerEntry | None:
    """Reverse the item's standing deduction, if it has one (used when a supervisor reopens the item)."""
    original = _standing_deduction(session, event_id)
    return None if original is None else _reverse(session, original, by, reason, require_aware(now))


def open_appeal(
    session: Session, entry_seq: int, filed_by: str, reason: str, now: datetime, settings: CentralSettings
) -> Appeal:
    """File an appeal against a standing deduction inside the appeal window; the item becomes `appealed`."""
    now = require_aware(now)
    reason = (reason or "").strip()
    if not reason or len(reason) > settings.note_max_chars:
        raise LedgerError(f"an appeal needs a reason of 1 to {settings.note_max_chars} characters")
    entry = session.get(LedgerEntry, entry_seq)
    if entry is None or entry.kind != arithmetic.DEDUCTION:
        raise LedgerError(f"ledger entry {entry_seq} is not a deduction")
    standing = _standing_deduction(session, entry.event_id)
    if standing is None or standing.seq != entry.seq:
        raise LedgerError(f"deduction {entry_seq} has been reversed; there is nothing to appeal")
    closes = entry.created_at + timedelta(days=settings.appeal_window_days)
    if now > closes:
        raise LedgerError(f"the appeal window for deduction {entry_seq} closed on {closes:%Y-%m-%d %H:%M} UTC")
    if session.scalar(select(Appeal).where(Appeal.entry_seq == entry_seq)) is not None:
        raise LedgerError(f"deduction {entry_seq} has already been appealed")
    move(session, load_item(session, entry.event_id), Action.APPEAL, filed_by, now, note=reason)
    appeal = Appeal(
        entry_seq=entry_seq, event_id=entry.event_id, filed_by=filed_by, filed_at=now, reason=reason, state="open"
    )
    session.add(appeal)
    session.flush()
    return appeal


def decide_appeal(
    session: Session,
    appeal_id: int,
    actor: Actor,
    uphold_deduction: bool,
    reason: str,
    note: str,
    now: datetime,
    settings: CentralSettings,
    *,
    version: int | None = None,
) -> Appeal:
    """Decide an open appeal, made on version `version` of its item (None checks nothing; see
    central.review.moves). The reviewer must not be anyone who confirmed the deduction or who filed the
    appeal. Granting it (uphold_deduction=False) writes a reversal entry; the item becomes `reversed`. Refusing
    it (uphold_deduction=True; stored as "upheld", the deduction's word) leaves the deduction standing. The
    reason must be one of the settings' reasons for that outcome."""
    now = require_aware(now)
    require_role(actor, REVIEW_ROLES, "deciding an appeal")
    reviewer = actor.name
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise LedgerError(f"no appeal {appeal_id}")
    item = load_item(session, appeal.event_id)
    session.refresh(appeal)
    check_version(session, item, version)
    if appeal.state != "open":
        raise LedgerError(f"appeal {appeal_id} was already decided ({appeal.state})")
    entry = session.get(LedgerEntry, appeal.entry_seq)
    assert entry is not None
    involved = {entry.decided_by, entry.second_by, appeal.filed_by} - {None}
    if reviewer in involved:
        raise LedgerError(
            f"{reviewer} confirmed this deduction or filed the appeal; a different reviewer must decide it"
        )
    fitting = settings.appeal_reasons(grant=not uphold_deduction)
    if reason not in fitting:
        outcome = "refusing an appeal (the deduction stands)" if uphold_deduction else "granting an appeal"
        raise LedgerError(f"{reason!r} is not a reason for {outcome}; choose one of: {'; '.join(fitting)}")
    kept_note = (note or "").strip() or None
    action = Action.UPHOLD if uphold_deduction else Action.REVERSE
    move(session, item, action, reviewer, now, reason=reason, note=kept_note)
    if not uphold_deduction:
        watch(session, settings.checkpoint_path)
        appeal.reversal_seq = _reverse(session, entry, reviewer, f"appeal {appeal_id} granted: {reason}", now).seq
    appeal.state = "upheld" if uphold_deduction else "reversed"
    appeal.decided_by = reviewer
    appeal.decided_at = now
    appeal.decision_reason = reason
    appeal.decision_note = kept_note
    session.flush()
    return appeal


def appeals(session: Session, state: str | None = None) -> list[Appeal]:
    stmt = select(Appeal).order_by(Appeal.id)
    if state is not None:
        stmt = stmt.where(Appeal.state == state)
    return list(session.scalars(stmt))


def entries(
    session: Session, subject_ref: str | None = None, site: str | None = None, event_id: str | None = None
) -> list[LedgerEntry]:
    """Entries in chain order, filtered."""
    stmt = select(LedgerEntry).order_by(LedgerEntry.seq)
    if subject_ref is not None:
        stmt = stmt.where(LedgerEntry.subject_ref == subject_ref)
    if site is not None:
        stmt = stmt.where(LedgerEntry.site == site)
    if event_id is not None:
        stmt = stmt.where(LedgerEntry.event_id == event_id)
    return list(session.scalars(stmt))


def incidents(
    session: Session, subject_ref: str, site: str, now: datetime, settings: CentralSettings
) -> list[arithmetic.Incident]:
    """The subject's standing deductions at `site` grouped into incidents, with what each counts now."""
    return arithmetic.incidents(
        entries(session, subject_ref=subject_ref, site=site),
        require_aware(now),
        settings.per_incident_cap,
        timedelta(seconds=settings.incident_window_s),
    )


def balance(session: Session, subject_ref: str, site: str, now: datetime, settings: CentralSettings) -> int:
    """Points counting against `subject_ref` at `site` at `now`: derived from the entries, never stored."""
    return arithmetic.balance(
        entries(session, subject_ref=subject_ref, site=site),
        require_aware(now),
        settings.per_incident_cap,
        timedelta(seconds=settings.incident_window_s),
    )


def verify_chain(
    session: Session, expected_head: str | None = None, checkpoints: Sequence[checkpoint.Checkpoint] = ()
) -> list[str]:
    """Problems in the ledger's hash chain and between it and the signed `checkpoints` of it, first problem
    first; [] when intact. With `expected_head` (a head hash noted earlier), also report when that entry is
    no longer in the ledger: the chain alone cannot show that its newest entries were removed."""
    rows = list(session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq)))
    records = [hashchain.ChainRecord(r.seq, r.hashed_fields(), r.prev_hash, r.hash) for r in rows]
    label = "ledger entry"
    problems = hashchain.verify(records, label) + checkpoint.compare(records, checkpoints, label)
    if expected_head is not None and expected_head not in {r.hash for r in rows} | {hashchain.GENESIS}:
        problems.append(f"the noted head {expected_head} is not in the ledger: entries were removed or replaced")
    return problems


def head(session: Session) -> tuple[int, str]:
    """(number of entries, hash of the newest): note it elsewhere to detect removal of the newest entries."""
    return chain_head(session, LedgerEntry)
