"""The /api/v1 JSON API on SQLite and PostgreSQL: the review workflow end to end through HTTP, with the
roles, second review, ledger, appeal and audit trail a user would see."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from central import audit
from central.db import transaction
from central.tables import EvidenceBlob
from tests.console_support import PASSWORDS, cut_evidence, make_central, seed, serve


@pytest.fixture(scope="module")
def evidence():
    return cut_evidence()


def sign_in(client: httpx.Client, name: str) -> dict[str, str]:
    response = client.post("/api/v1/session", json={"username": name, "password": PASSWORDS[name]})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_review_workflow_through_the_api(db_url: str, tmp_path: Path, evidence) -> None:
    central = make_central(db_url, tmp_path)
    litter = seed(central, evidence, kind="littering", camera_id="cam-east")
    jay = seed(central, kind="jaywalking")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        alice, bob, sam, audrey, root = (sign_in(client, n) for n in ("alice", "bob", "sam", "audrey", "root"))

        queue = client.get("/api/v1/queue", headers=alice).json()
        assert {item["event_id"] for item in queue} == {litter, jay}
        assert client.get("/api/v1/queue", params={"camera": "cam-east"}, headers=alice).json()[0]["event_id"] == litter
        assert client.get("/api/v1/queue", params={"type": "jaywalking"}, headers=alice).json()[0]["event_id"] == jay
        assert client.get("/api/v1/queue", params={"age": "gt7d"}, headers=alice).json() == []

        item = client.get(f"/api/v1/infractions/{litter}", headers=alice).json()
        assert item["rule_trace"]["name"] == "litter.left_behind"
        assert item["rule_trace"]["measurements"] == {"static_s": 14.2}
        assert len(item["trajectory"]) == 9
        roles = sorted(e["role"] for e in item["evidence"])
        assert roles == ["clip", "keyframe", "keyframe"]
        clip = next(e for e in item["evidence"] if e["role"] == "clip")
        got = client.get(clip["url"], headers=alice)
        assert got.status_code == 200 and got.headers["content-type"] == "video/webm"
        assert got.content == evidence.clip

        # An auditor reads but never decides; the admin does not review at all.
        assert item["version"] == 0
        decision = {"decision": "confirm", "reason": "clear evidence", "subject_ref": "case-1042", "version": 0}
        assert client.post(f"/api/v1/infractions/{litter}/decision", json=decision, headers=audrey).status_code == 403
        assert client.post(f"/api/v1/infractions/{litter}/decision", json=decision, headers=root).status_code == 403

        first = client.post(f"/api/v1/infractions/{litter}/decision", json=decision, headers=alice)
        assert first.json() == {"event_id": litter, "review_state": "awaiting_second", "version": 2}, first.text
        again = client.post(
            f"/api/v1/infractions/{litter}/second-review", json={**decision, "version": 2}, headers=alice
        )
        assert again.status_code == 409 and "different reviewer" in again.json()["detail"]
        assert (
            client.post("/api/v1/ledger/search", json={"subject": "case-1042"}, headers=audrey).json()["entries"] == []
        )

        # The second review is its own step, on the version that shows the first reviewer's confirmation.
        versions = {i["event_id"]: i["version"] for i in client.get("/api/v1/queue", headers=bob).json()}
        assert versions == {litter: 2, jay: 0}
        assert [i["event_id"] for i in client.get("/api/v1/queue", headers=alice).json()] == [jay]
        second = client.post(
            f"/api/v1/infractions/{litter}/second-review", json={**decision, "version": 2}, headers=bob
        )
        assert second.json() == {"event_id": litter, "review_state": "confirmed", "version": 4}, second.text
        ledger = client.post("/api/v1/ledger/search", json={"subject": "case-1042"}, headers=audrey).json()
        assert ledger["balances"] == {"main-st": 3}
        assert ledger["chain_problems"] == []
        [entry] = ledger["entries"]
        assert (entry["decided_by"], entry["second_by"], entry["points"]) == ("alice", "bob", 3)

        reject = {"decision": "reject", "reason": "not an infraction", "note": "a parked scooter", "version": 0}
        assert client.post(f"/api/v1/infractions/{jay}/decision", json=reject, headers=bob).json()["review_state"] == (
            "rejected"
        )

        appeal = client.post(f"/api/v1/ledger/{entry['seq']}/appeals", json={"reason": "it was my bag"}, headers=bob)
        assert appeal.status_code == 201, appeal.text
        appeal_id = appeal.json()["id"]
        assert appeal.json()["item_version"] == 5
        verdict = {"outcome": "reverse", "reason": "evidence does not show the subject", "version": 5}
        # Reviewers file appeals; only a supervisor decides them.
        assert client.post(f"/api/v1/appeals/{appeal_id}/decision", json=verdict, headers=alice).status_code == 403
        decided = client.post(f"/api/v1/appeals/{appeal_id}/decision", json=verdict, headers=sam)
        assert decided.json()["state"] == "reversed", decided.text
        ledger = client.post("/api/v1/ledger/search", json={"subject": "case-1042"}, headers=alice).json()
        assert ledger["balances"] == {"main-st": 0}
        assert [e["kind"] for e in ledger["entries"]] == ["deduction", "reversal"]
        # A subject reference is never taken in a URL (issue 23 §2): refused, and not repeated.
        in_url = client.get("/api/v1/ledger", params={"subject": "case-1042"}, headers=alice)
        assert in_url.status_code == 400 and "case-1042" not in in_url.text
        assert client.get(f"/api/v1/infractions/{litter}", headers=alice).json()["review_state"] == "reversed"

        accuracy = client.get("/api/v1/accuracy", headers=audrey).json()
        by_camera = {row["camera"]: row for row in accuracy}
        assert by_camera["main-st/cam-east"]["overturned"] == 1 and by_camera["main-st/cam-east"]["rate"] == 1.0
        assert by_camera["main-st/cam-north"]["overturned"] == 0

        log = client.get("/api/v1/audit", params={"limit": 1000}, headers=audrey).json()
        actions = {(e["actor"], e["action"]) for e in log}
        assert ("alice", "evidence.view") in actions
        assert ("alice", "review.refer") in actions and ("bob", "review.confirm") in actions
        assert ("sam", "review.reverse") in actions
        csv_text = client.get("/api/v1/audit.csv", headers=audrey).text
        assert csv_text.splitlines()[0].startswith("seq,at,actor,action")
        assert client.get("/api/v1/audit", headers=alice).status_code == 403


def test_supervisor_moves_and_evidence_availability(tmp_path: Path, evidence) -> None:
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    jay = seed(central, evidence, kind="jaywalking")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        alice, bob, sam = (sign_in(client, n) for n in ("alice", "bob", "sam"))
        # Work goes only to active reviewers; the one it went to holds the claim.
        to_audrey, to_alice, to_bob = ({"to_reviewer": name, "version": 0} for name in ("audrey", "alice", "bob"))
        refused = client.post(f"/api/v1/infractions/{jay}/reassign", json=to_audrey, headers=sam)
        assert refused.status_code == 409 and "not an active reviewer" in refused.json()["detail"]
        assert client.post(f"/api/v1/infractions/{jay}/reassign", json=to_alice, headers=alice).status_code == 403
        given = client.post(f"/api/v1/infractions/{jay}/reassign", json=to_bob, headers=sam)
        assert given.status_code == 200 and given.json()["reviewer"] == "bob" and given.json()["version"] == 1
        reject = {"decision": "reject", "reason": "camera or rule fault", "version": 1}
        taken = client.post(f"/api/v1/infractions/{jay}/decision", json=reject, headers=alice)
        assert taken.status_code == 409 and "claimed by bob" in taken.json()["detail"]
        assert (
            client.post(f"/api/v1/infractions/{jay}/decision", json=reject, headers=bob).json()["review_state"]
            == "rejected"
        )
        reopened = client.post(
            f"/api/v1/infractions/{jay}/reopen",
            json={"reason": "rule fault fixed; look again", "version": 2},
            headers=sam,
        )
        assert reopened.json()["review_state"] == "pending"
        assert [i["event_id"] for i in client.get("/api/v1/queue", headers=alice).json()] == [jay]

        item = client.get(f"/api/v1/infractions/{jay}", headers=alice).json()
        assert [h["action"] for h in item["history"]] == ["reassign", "reject", "reopen"]
        keyframe = next(e for e in item["evidence"] if e["role"] == "keyframe")
        assert client.get(keyframe["url"], headers=alice).content == evidence.keyframes[0]
        assert client.get(keyframe["url"].replace(keyframe["sha256"], "0" * 64), headers=alice).status_code == 404
        central.store.delete(keyframe["sha256"])
        assert client.get(keyframe["url"], headers=alice).status_code == 404
        with transaction(central.factory) as session:
            session.get(EvidenceBlob, keyframe["sha256"]).purged_at = datetime.now(UTC)
        gone = client.get(keyframe["url"], headers=alice)
        assert gone.status_code == 410 and "purged" in gone.json()["detail"]


def test_parallel_evidence_views_are_each_audited_on_sqlite(tmp_path: Path, evidence) -> None:
    """A page loads its clip and keyframes at once; every view lands in one unbroken audit chain."""
    from concurrent.futures import ThreadPoolExecutor

    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    event_id = seed(central, evidence, kind="littering")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        headers = sign_in(client, "audrey")
        urls = [e["url"] for e in client.get(f"/api/v1/infractions/{event_id}", headers=headers).json()["evidence"]]
        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(lambda url: client.get(url, headers=headers).status_code, urls * 4))
    assert statuses == [200] * 12
    with transaction(central.factory) as session:
        assert len(audit.entries(session, actor="audrey", action="evidence.view", limit=None)) == 12
        assert audit.verify(session) == []
