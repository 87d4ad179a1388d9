"""Evidence retention on a real database and evidence folder: what is purged when, what is kept, and
that every purge is logged and audited while a dry run changes nothing."""

import hashlib
from datetime import UTC, datetime, timedelta

import yaml

from central import audit, decisions
from central.db import make_engine, session_factory, transaction
from central.evidence_store import FolderEvidenceStore
from central.ledger import service as ledger
from central.retention import purge, purge_log
from central.review import service as review
from central.review.roles import Actor
from central.settings import CentralSettings
from central.tables import EvidenceBlob, EvidenceLink
from central.timeutil import as_utc
from tests.conftest import run_cli
from tests.review_support import (  # noqa: F401  (fixture "factory")
    CHECKPOINT_DIR,
    T0,
    add_infraction,
    factory_fixture,
)

DAY = timedelta(days=1)
SETTINGS = CentralSettings(
    retention_rejected_days=10, appeal_window_days=30, second_review_points=5, checkpoint_dir=CHECKPOINT_DIR
)


def add_evidence(session, store, event_ids, label):
    data = f"redacted jpeg bytes of {label}".encode()
    digest = hashlib.sha256(data).hexdigest()
    store.put(digest, data)
    session.add(EvidenceBlob(sha256=digest, size=len(data), camera_id="cam-1", received_at=T0))
    for event_id in event_ids:
        session.add(EvidenceLink(event_id=event_id, sha256=digest, media_type="image/jpeg", role="keyframe"))
    session.flush()
    return digest


def decided(session, decision, now, subject_ref=None):
    event_id = add_infraction(session, started_at=now)
    review.claim(session, event_id, Actor("alice", "reviewer"), now, SETTINGS)
    reason = "clear evidence" if decision == "confirm" else "not an infraction"
    decisions.decide(session, event_id, Actor("alice", "reviewer"), decision, reason, "", subject_ref, now, SETTINGS)
    return event_id


def scenario(factory, store, at=T0):
    """Evidence of: a rejected item, a confirmed one, a pending one, and one blob shared by a rejected and a
    pending item."""
    with transaction(factory) as s:
        rejected, confirmed, pending = decided(s, "reject", at), decided(s, "confirm", at), add_infraction(s)
        other_rejected = decided(s, "reject", at)
        return {
            "rejected": add_evidence(s, store, [rejected], "rejected"),
            "confirmed": add_evidence(s, store, [confirmed], "confirmed"),
            "pending": add_evidence(s, store, [pending], "pending"),
            "shared": add_evidence(s, store, [other_rejected, pending], "shared"),
        }


def test_rejected_evidence_goes_after_its_days_confirmed_after_the_appeal_window(factory, tmp_path):
    store = FolderEvidenceStore(tmp_path / "evidence")
    blobs = scenario(factory, store)
    with transaction(factory) as s:
        assert purge(s, store, SETTINGS, T0 + 9 * DAY, dry_run=False) == []
        [item] = purge(s, store, SETTINGS, T0 + 10 * DAY, dry_run=False)
    assert item.sha256 == blobs["rejected"] and item.reason == "rejected more than 10 days ago"
    assert not store.exists(blobs["rejected"])
    assert all(store.exists(blobs[k]) for k in ("confirmed", "pending", "shared"))
    with transaction(factory) as s:
        [item] = purge(s, store, SETTINGS, T0 + 30 * DAY, dry_run=False)
        assert item.sha256 == blobs["confirmed"] and "appeal window has closed" in item.reason
        assert purge(s, store, SETTINGS, T0 + 400 * DAY, dry_run=False) == []
        assert as_utc(s.get(EvidenceBlob, blobs["rejected"]).purged_at) == T0 + 10 * DAY
        assert s.get(EvidenceBlob, blobs["pending"]).purged_at is None
        assert [(r.sha256, r.file_removed) for r in purge_log(s)] == [
            (blobs["confirmed"], True),
            (blobs["rejected"], True),
        ]
        purges = audit.entries(s, action="purge.evidence")
        assert [(e.actor, e.target) for e in purges] == [
            ("retention", f"evidence:{blobs['rejected']}"),
            ("retention", f"evidence:{blobs['confirmed']}"),
        ]
    assert store.exists(blobs["pending"]) and store.exists(blobs["shared"])


def test_a_dry_run_lists_and_changes_nothing(factory, tmp_path):
    store = FolderEvidenceStore(tmp_path / "evidence")
    blobs = scenario(factory, store)
    with transaction(factory) as s:
        items = purge(s, store, SETTINGS, T0 + 60 * DAY, dry_run=True)
        assert sorted(i.sha256 for i in items) == sorted([blobs["rejected"], blobs["confirmed"]])
        assert audit.entries(s, action="purge.") == [] and purge_log(s) == []
        assert s.get(EvidenceBlob, blobs["rejected"]).purged_at is None
    assert all(store.exists(digest) for digest in blobs.values())


def test_evidence_under_appeal_stays_and_reversed_evidence_goes_later(factory, tmp_path):
    store = FolderEvidenceStore(tmp_path / "evidence")
    with transaction(factory) as s:
        event_id = decided(s, "confirm", T0, subject_ref="case-1")
        digest = add_evidence(s, store, [event_id], "appealed")
        [entry] = ledger.entries(s)
        appeal = ledger.open_appeal(s, entry.seq, "clerk", "not me", T0 + 29 * DAY, SETTINGS)
    with transaction(factory) as s:
        assert purge(s, store, SETTINGS, T0 + 60 * DAY, dry_run=False) == []
        ledger.decide_appeal(
            s, appeal.id, Actor("carol", "reviewer"), False, "other", "signal fault", T0 + 60 * DAY, SETTINGS
        )
    with transaction(factory) as s:
        assert purge(s, store, SETTINGS, T0 + 69 * DAY, dry_run=False) == []
        [item] = purge(s, store, SETTINGS, T0 + 70 * DAY, dry_run=False)
        assert item.sha256 == digest and item.reason == "reversed more than 10 days ago"
        assert len(ledger.entries(s)) == 2


def test_purge_command_dry_run_and_real_run(db_url, tmp_path):
    engine = make_engine(db_url)
    run = run_cli("central", "migrate", "--db", db_url)
    assert run.returncode == 0, run.stderr
    store = FolderEvidenceStore(tmp_path / "evidence")
    blobs = scenario(session_factory(engine), store, at=datetime.now(UTC) - 45 * DAY)
    engine.dispose()
    config = tmp_path / "central.yaml"
    config.write_text(yaml.safe_dump({"retention_rejected_days": 10, "appeal_window_days": 30}))
    args = ("central", "purge", "--db", db_url, "--settings", str(config), "--evidence-dir", str(store.root))
    dry = run_cli(*args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would purge {blobs['rejected']}" in dry.stdout and f"would purge {blobs['confirmed']}" in dry.stdout
    assert "2 evidence files would purge" in dry.stdout
    assert all(store.exists(digest) for digest in blobs.values())
    real = run_cli(*args)
    assert real.returncode == 0, real.stderr
    assert "2 evidence files purged" in real.stdout
    assert not store.exists(blobs["rejected"]) and not store.exists(blobs["confirmed"])
    assert store.exists(blobs["pending"]) and store.exists(blobs["shared"])


def test_purge_command_reports_a_bad_config_in_one_line_per_problem(tmp_path):
    config = tmp_path / "central.yaml"
    config.write_text("retention_rejected_days: -1\nretention_days: 3\n")
    result = run_cli("central", "purge", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--settings", str(config))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and "Traceback" not in result.stderr
    assert any("retention_rejected_days" in line and "greater than or equal to 0" in line for line in lines)
    assert any("retention_days: unknown key" in line for line in lines)
