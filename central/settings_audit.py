"""Configuration changes in the audit log: the effective review, ledger and retention policy is recorded
whenever it differs from the one recorded last, so an auditor sees when a threshold or period changed."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from central import audit, hashchain
from central.settings import CentralSettings

ACTION = "config.settings"
NOT_POLICY = {"db_url"}
"""Left out of the log: a database URL may carry a password, and where data lives is not policy."""


def policy(settings: CentralSettings) -> dict[str, Any]:
    return settings.model_dump(mode="json", exclude=NOT_POLICY)


def audit_settings(session: Session, settings: CentralSettings, actor: str, now: datetime | None = None) -> bool:
    """Record `settings` when they differ from the last recorded; True when an entry was written. Call it
    wherever settings are loaded to act on them (console start, purge)."""
    current = policy(settings)
    digest = hashlib.sha256(hashchain.canonical(current).encode()).hexdigest()
    last = session.scalar(
        select(audit.AuditEntry).where(audit.AuditEntry.action == ACTION).order_by(audit.AuditEntry.seq.desc()).limit(1)
    )
    previous: dict[str, Any] = last.details.get("settings", {}) if last is not None else {}
    if last is not None and last.details.get("sha256") == digest:
        return False
    changed = sorted(key for key in current.keys() | previous.keys() if current.get(key) != previous.get(key))
    audit.record(
        session, actor, ACTION, "settings", {"sha256": digest, "changed": changed, "settings": current}, now=now
    )
    return True
