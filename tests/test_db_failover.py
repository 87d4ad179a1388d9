"""Central through a database failover (issue 27): a PostgreSQL primary with a synchronous streaming replica, two
`central run` workers on libpq's multi-host URL (`target_session_attrs=read-write`), a real Mosquitto and a camera
publishing signed events that wait for central's receipts. The primary is killed with SIGKILL mid-stream and the
replica promoted while the camera keeps publishing.

Every event is stored exactly once and receipted (the camera's outbox drains), neither worker is restarted, the
ledger and audit chains verify, a review decided during the outage is answered 503 "database unavailable ... try
again" and goes through when tried again, and while the database is away the console says so and since when. The
figures (time to recover, events delayed) are printed on one line for docs/scale.md."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from central.console.auth import add_user
from central.db import transaction
from central.tables import Infraction
from central.timeutil import as_utc
from curbwatch.local_broker import LocalBroker, free_port
from edge.loadgen import synthetic_event_id
from tests.conftest import run_cli
from tests.console_support import PASSWORDS, wait_console
from tests.pg_pair import PgPair
from tests.test_transport_faults import worker_totals
from tests.transport_kit import Db, make_camera, make_receipt_key, migrate, start_loadgen, start_worker, stop

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
COUNT = 600
RATE = 40.0
OUTAGE_S = 5.0
HOSTS = ("host-a", "host-b")
QUEUED_BEFORE_START = timedelta(seconds=5)
"""edge.loadgen dates each event's start 5 s before it queues the event."""


@pytest.fixture
def pg_pair():
    pair = PgPair()
    try:
        yield pair.up()
    finally:
        pair.close()


def _sign_in(client: httpx.Client, user: str) -> dict[str, str]:
    answer = client.post("/api/v1/session", json={"username": user, "password": PASSWORDS[user]})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"{what} within {timeout} s"
        time.sleep(0.1)
    return found


def test_primary_killed_mid_stream_replica_promoted_every_event_once(tmp_path, pg_pair):
    url = pg_pair.url()
    migrate(url)
    db = Db(url)
    with transaction(db.factory) as session:
        for user in ("alice", "bob"):
            add_user(session, user, PASSWORDS[user], "reviewer", issued_by="root")
    key = make_receipt_key(tmp_path)
    console = f"http://127.0.0.1:{free_port()}"
    with LocalBroker(tmp_path / "broker") as broker:
        config = make_camera(tmp_path, "cam1", broker.url, central_key=key.with_suffix(".pub"))
        workers = [
            start_worker(
                tmp_path,
                url,
                broker.url,
                host,
                *("--receipt-key", str(key)),
                *(("--http", console.removeprefix("http://")) if host == HOSTS[0] else ()),
            )
            for host in HOSTS
        ]
        client = httpx.Client(base_url=console, timeout=30)
        try:
            wait_console(console, workers[0], timeout=60)
            alice, bob = _sign_in(client, "alice"), _sign_in(client, "bob")
            edge = start_loadgen(config, COUNT, "--evidence", "--rate", str(RATE))
            _wait(lambda: db.count() >= COUNT // 4, 60, "a quarter of the events stored")
            reviewed = sorted(db.event_ids())[0]
            db.close()  # the test's own pool would otherwise hold connections to the dead primary

            killed = time.time()
            pg_pair.kill_primary()
            health = _wait(lambda: (h := client.get("/healthz")).status_code == 503 and h, 10, "/healthz says so")
            assert health.json()["database"] == "unavailable" and health.json()["since"], health.text
            decision = {"decision": "confirm", "reason": "clear evidence", "subject_ref": "case-27", "version": 0}
            refused = client.post(f"/api/v1/infractions/{reviewed}/decision", json=decision, headers=alice)
            assert refused.status_code == 503, refused.text
            detail = refused.json()["detail"]
            assert detail.startswith("database unavailable since ") and "try again" in detail, detail
            page = client.get("/cameras", headers=alice)
            assert page.status_code == 503 and "database unavailable since" in page.text, page.text[-2000:]
            time.sleep(max(0.0, killed + OUTAGE_S - time.time()))
            promoted = time.time()
            pg_pair.promote_replica()

            done = edge.communicate(timeout=180)
            assert edge.returncode == 0, done
            assert json.loads(done[0].splitlines()[-1]) == {"queued": COUNT, "drained": True}
            assert db.wait_for(lambda d: d.count() >= COUNT, 30)
            assert db.quarantined() == [], "a message was quarantined during the outage"
            assert client.get("/healthz").json() == {"database": "ok"}
            # Nothing of the refused decision was written: the same request, tried again, is the first review.
            again = client.post(f"/api/v1/infractions/{reviewed}/decision", json=decision, headers=alice)
            assert again.status_code == 200, again.text
            if again.json()["review_state"] == "awaiting_second":
                second = {**decision, "version": again.json()["version"]}
                done_second = client.post(f"/api/v1/infractions/{reviewed}/second-review", json=second, headers=bob)
                assert done_second.status_code == 200, done_second.text
            with db.factory() as session:
                assert session.scalar(select(Infraction.review_state).where(Infraction.event_id == reviewed)) == (
                    "confirmed"
                )
                times = [
                    (as_utc(r), as_utc(s))
                    for r, s in session.execute(select(Infraction.received_at, Infraction.started_at))
                ]
        finally:
            client.close()
            db.close()
            codes = [stop(worker) for worker in workers]
    assert codes == [0, 0], "a worker did not stop cleanly"

    listed = run_cli("central", "list", "--db", url, "--json")
    assert listed.returncode == 0, listed.stderr
    ids = [json.loads(line)["event_id"] for line in listed.stdout.splitlines()]
    assert len(ids) == len(set(ids)) == COUNT, "an event was stored twice"
    assert set(ids) == {str(synthetic_event_id("cam1", 0, i)) for i in range(COUNT)}
    totals = [worker_totals(tmp_path, host) for host in HOSTS]
    assert sum(t.get("stored", 0) for t in totals) + sum(t.get("duplicates", 0) for t in totals) >= COUNT
    for host in HOSTS:
        log = (tmp_path / f"{host}.log").read_text()
        assert "Traceback" not in log, log[-3000:]
        # One line when the outage began, one when it ended, whatever the number of retries in between.
        assert log.count("database unavailable (") == 1, log[-3000:]
        assert log.count("storage is back after") == 1, log[-3000:]
    for command in ("verify-ledger", "verify-audit"):
        checked = run_cli("central", command, "--db", url, "--data-dir", str(tmp_path / "central-data"))
        assert checked.returncode == 0, checked.stdout + checked.stderr

    delays = sorted((received - started - QUEUED_BEFORE_START).total_seconds() for received, started in times)
    after_promotion = [r.timestamp() - promoted for r, _s in times if r.timestamp() > promoted]
    figures = {
        "outage_s": round(promoted - killed, 1),
        "first_store_after_promotion_s": round(min(after_promotion), 2),
        "events_delayed_over_1s": sum(d > 1 for d in delays),
        "max_delay_s": round(delays[-1], 1),
        "median_delay_s": round(delays[len(delays) // 2], 2),
        "stored": len(ids),
        "sent": COUNT,
        "storage_retries": sum(t.get("storage_retries", 0) for t in totals),
    }
    print("failover figures:", json.dumps(figures))
    assert figures["first_store_after_promotion_s"] < 10
