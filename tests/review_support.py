"""Helpers for the review, ledger, retention and audit tests: a migrated database and stored infractions."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from central.db import make_engine, session_factory
from central.migrate import upgrade
from central.settings import CentralSettings
from central.tables import Infraction

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CHECKPOINT_DIR = Path(tempfile.mkdtemp(prefix="curbwatch-test-checkpoints-"))
"""Where ledger changes in tests sign their checkpoints: not ./data/checkpoints of the checkout."""
SETTINGS = CentralSettings(
    second_review_points=2, claim_ttl_s=600, per_incident_cap=3, points_expiry_days=365, checkpoint_dir=CHECKPOINT_DIR
)


@pytest.fixture(name="factory")
def factory_fixture(db_url: str) -> Iterator[sessionmaker[Session]]:
    """A session factory on a database migrated to the newest schema (catalogue version 1 seeded)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    yield session_factory(engine)
    engine.dispose()


def add_infraction(
    session: Session, type: str = "jaywalking", site: str = "north", camera_id: str = "cam-1", started_at=T0
) -> str:
    event_id = str(uuid.uuid4())
    session.add(
        Infraction(
            event_id=event_id,
            type=type,
            site=site,
            camera_id=camera_id,
            started_at=started_at,
            ended_at=started_at + timedelta(seconds=4),
            zone="road-1",
            confidence=0.9,
            redacted=True,
            payload={"event_id": event_id},
            received_at=started_at + timedelta(seconds=5),
        )
    )
    session.flush()
    return event_id


def without_append_only_guard(session: Session, table: str) -> None:
    """Drop the triggers that refuse edits to `table`, as someone with the database owner's rights could,
    so a test can tamper with rows and check that the hash chain still tells."""
    from sqlalchemy import text

    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))
    else:
        session.execute(text(f"DROP TRIGGER {table}_no_update"))
        session.execute(text(f"DROP TRIGGER {table}_no_delete"))
