"""A seeded month at one site, written through the real review, ledger, retention and catalogue services, and
its transparency report from `curbwatch central report`: every figure matches what the test counted as it
went, small figures are hidden, the HTML stands alone, and making a report is audited."""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select

from central import audit, decisions
from central.db import transaction
from central.ledger import catalogue
from central.ledger import service as ledger
from central.retention import purge
from central.review import service as review
from central.review.roles import Actor
from central.settings import CentralSettings
from central.tables import EvidenceBlob, EvidenceLink, Infraction, QuarantinedMessage
from central.transparency import figures as fig
from central.transparency import queries, render, service
from central.transparency.disclosure import disclose
from tests.conftest import run_cli
from tests.console_support import make_central, message
from tests.review_support import CHECKPOINT_DIR

MARCH = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SETTINGS = CentralSettings(
    second_review_points=2,
    appeal_window_days=1,
    points_expiry_days=1,
    retention_rejected_days=0,
    checkpoint_dir=CHECKPOINT_DIR,
)
JAY, LITTER = ("cam-1", "jaywalking"), ("cam-2", "littering")


class Month:
    """Seeds events and decisions and keeps its own count of what each should add to the report."""

    def __init__(self, central) -> None:  # type: ignore[no-untyped-def]
        self.central = central
        self.counts: Counter = Counter()
        self.waits: dict[tuple[str, str], list[float]] = {}
        self.arrived: dict[str, tuple[datetime, tuple[str, str]]] = {}

    def event(self, where: tuple[str, str], at: datetime, site: str = "north", count: bool = True) -> str:
        msg = message(camera_id=where[0], site=site, kind=where[1], started_at=at, evidence=None)
        payload = msg.to_payload()
        data = f"evidence of {msg.event_id}".encode()
        sha = hashlib.sha256(data).hexdigest()
        with transaction(self.central.factory) as session:
            session.add(
                Infraction(
                    event_id=str(msg.event_id), type=msg.type, site=site, camera_id=where[0], started_at=at,
                    ended_at=msg.ended_at, zone=msg.zone, confidence=msg.confidence, redacted=True, payload=payload,
                    review_state="pending", received_at=at + timedelta(seconds=20),
                )
            )  # fmt: skip
            session.add(EvidenceLink(event_id=str(msg.event_id), sha256=sha, media_type="image/jpeg", role="keyframe"))
            session.add(EvidenceBlob(sha256=sha, size=len(data), camera_id=where[0], received_at=at))
            self.central.store.put(sha, data)
        if count:
            self.counts[(where, "received")] += 1
        self.arrived[str(msg.event_id)] = (at + timedelta(seconds=20), where)
        return str(msg.event_id)

    def decide(self, event_id: str, who: str, decision: str, reason: str, at: datetime, subject: str | None = None):  # type: ignore[no-untyped-def]
        with transaction(self.central.factory) as session:
            second = session.get(Infraction, event_id).review_state == "awaiting_second"
            review.claim(session, event_id, Actor(who, "reviewer"), at, SETTINGS)
            make = decisions.second_review if second else decisions.decide
            state = make(session, event_id, Actor(who, "reviewer"), decision, reason, "", subject, at, SETTINGS)
        received, where = self.arrived[event_id]
        if state in ("confirmed", "rejected") and MARCH.month == at.month:
            self.waits.setdefault(where, []).append((at - received).total_seconds())
            self.counts[(where, state)] += 1
            if state == "rejected":
                self.counts[(where, f"rejected: {reason}")] += 1
        return state


def seed_month(central) -> Month:  # type: ignore[no-untyped-def]
    month = Month(central)
    jay = [month.event(JAY, MARCH + timedelta(hours=i)) for i in range(7)]
    for i, event_id in enumerate(jay[:5]):
        month.decide(
            event_id, "alice", "confirm", "clear evidence", MARCH + timedelta(hours=i, minutes=30 + i), f"case-{i:03d}"
        )
    for i, event_id in enumerate(jay[5:], start=5):
        month.decide(event_id, "bob", "reject", "not an infraction", MARCH + timedelta(hours=i, minutes=10))
    month.counts[(JAY, "points_deducted")] += 5 * 2
    # Two appeals the same day: one granted (reversed before it could expire), one refused.
    with transaction(central.factory) as session:
        seqs = {e.event_id: e.seq for e in ledger.entries(session)}
        for n, (event_id, uphold) in enumerate(((jay[0], False), (jay[1], True))):
            at = MARCH + timedelta(hours=6 + n)
            appeal = ledger.open_appeal(session, seqs[event_id], "bob", "not me", at, SETTINGS)
            later = at + timedelta(hours=1)
            reason = "deduction stands: evidence clear" if uphold else "circumstances justify it"
            ledger.decide_appeal(session, appeal.id, Actor("sam", "supervisor"), uphold, reason, "", later, SETTINGS)
    month.counts[(JAY, "appeals_filed")] += 2
    month.counts[(JAY, "appeals_refused")] += 1
    month.counts[(JAY, "appeals_granted")] += 1
    month.counts[(JAY, "points_reversed")] += 2
    month.counts[(JAY, "points_expired")] += 4 * 2  # four deductions stand, each expiring a day after its event

    litter = [month.event(LITTER, MARCH + timedelta(days=3, hours=i)) for i in range(3)]
    at = MARCH + timedelta(days=3, hours=5)
    assert month.decide(litter[0], "alice", "confirm", "clear evidence", at, "case-900") == "awaiting_second"
    month.decide(litter[0], "bob", "reject", "evidence unclear", at + timedelta(minutes=5))
    month.counts[(LITTER, "second_review_disagreed")] += 1
    month.decide(litter[1], "alice", "confirm", "clear evidence", at, "case-901")
    assert month.decide(litter[1], "bob", "confirm", "clear evidence", at + timedelta(minutes=7)) == "confirmed"
    month.counts[(LITTER, "points_deducted")] += 3
    month.counts[(LITTER, "points_expired")] += 3
    month.decide(litter[2], "bob", "reject", "wrong infraction type", at + timedelta(minutes=9))

    # Outside the month or the site: an event from February decided then, one received in March but decided in
    # April, and one at another site.
    february = month.event(JAY, MARCH - timedelta(days=4), count=False)
    month.decide(february, "alice", "confirm", "clear evidence", MARCH - timedelta(days=4, minutes=-30))
    late = month.event(JAY, MARCH + timedelta(days=27))
    month.decide(late, "alice", "reject", "evidence unclear", MARCH + timedelta(days=32))
    month.event(JAY, MARCH + timedelta(days=1), site="south", count=False)

    with transaction(central.factory) as session:
        purged = purge(session, central.store, SETTINGS, MARCH + timedelta(days=18), dry_run=False)
        catalogue.publish(session, {"jaywalking": 2, "littering": 4}, "cli:test", MARCH + timedelta(days=20))
        # An item message counts as any other (issue 23 §6: the report's own topic parsing left 'item' out).
        refused = (
            ("north/cam-1/infraction", 3), ("north/cam-1/status", 4), ("north/cam-1/item", 5),
            ("north/cam-1/infraction", 40),
        )  # fmt: skip
        for topic, day in (*refused, ("south/cam-9/status", 3)):
            session.add(
                QuarantinedMessage(
                    topic=f"curbwatch/v1/{topic}", camera_id=None, reason="bad signature", size=10,
                    payload_head=b"{}", received_at=MARCH + timedelta(days=day),
                )
            )  # fmt: skip
    # Every decided event's evidence went on the 20th: those of the month, and February's.
    for item in purged:
        for event_id in item.event_ids:
            month.counts[(month.arrived[event_id][1], "evidence_purged")] += 1
    return month


def exact(central) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """The month's figures with nothing hidden, as the report's own code works them out (no report shows them so:
    the threshold comes from the settings, at least 5)."""
    with transaction(central.factory) as session:
        rows = queries.load(session, service.period("north", date(2026, 3, 1), date(2026, 3, 31)))
    figures = fig.compute(rows, central.settings.reject_reasons, datetime.now(UTC))
    return json.loads(render.to_json(disclose(figures, 1)))  # type: ignore[no-any-return]


def report(central, tmp_path: Path, form: str) -> str:  # type: ignore[no-untyped-def]
    settings = tmp_path / "central.yaml"
    # A checkpoint folder belongs to one ledger: this database's own, not the one the other tests share.
    settings.write_text(yaml.safe_dump({"checkpoint_dir": str(tmp_path / "checkpoints")}))
    result = run_cli(
        "central", "report", "--site", "north", "--from", "2026-03-01", "--to", "2026-03-31", "--format", form,
        "--db", central.url, "--settings", str(settings),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_seeded_months_report_matches_what_was_done(db_url: str, tmp_path: Path) -> None:
    central = make_central(db_url, tmp_path)
    month = seed_month(central)
    data = exact(central)
    assert (data["site"], data["from"][:10], data["to"][:10]) == ("north", "2026-03-01", "2026-04-01")
    groups = {(g["camera"], g["rule"]): g["figures"] for g in data["groups"]}
    assert set(groups) == {JAY, LITTER, ("cam-1", "not read (quarantined)")}
    assert groups[("cam-1", "not read (quarantined)")]["quarantined"] == 3
    for where in (JAY, LITTER):
        figures = groups[where]
        for key, value in figures.items():
            if key == "median_decision_s":
                assert value == statistics.median(month.waits[where]), where
            elif key != "quarantined":
                assert value == month.counts[(where, key)], (where, key)
    assert data["total"]["figures"]["received"] == 7 + 3 + 1
    assert [v["version"] for v in data["catalogue"]] == [1, 2]
    assert data["rule_versions"] == [{"rule": "jaywalking", "version": "1"}, {"rule": "littering", "version": "1"}]

    hidden = json.loads(report(central, tmp_path, "json"))
    shown = {(g["camera"], g["rule"]): g["figures"] for g in hidden["groups"]}
    assert shown[LITTER]["received"] == "hidden" and shown[LITTER]["confirmed"] == "hidden"
    # total = jaywalking + hidden would give the hidden figure back: one more figure of each sum hides too.
    for key in ("received", "confirmed"):
        assert "hidden" in (shown[JAY][key], hidden["total"]["figures"][key]), key
    assert shown[LITTER]["median_decision_s"] == "hidden"

    page = report(central, tmp_path, "html")
    assert "<script" not in page and "http://" not in page and "https://" not in page and "<img" not in page
    assert "<svg" in page and "Transparency report: site north" in page
    assert "jaywalking version 1" in page and "version 2" in page and "littering 4" in page
    assert "case-" not in page and "not me" not in page  # no subject reference, no appeal text
    with transaction(central.factory) as session:
        made = [e for e in session.scalars(select(audit.AuditEntry)) if e.action == "report.transparency"]
    assert [(e.target, e.details["format"], e.details["threshold"]) for e in made] == [
        ("site:north", "json", 5),
        ("site:north", "html", 5),
    ]
