"""A database that cannot take work (issue 27 §2-3), short of a whole failover: one that cannot be reached, and a
standby that refuses writes (what a worker or console configured with one host finds after a failover moved the
primary). The console answers 503 with "database unavailable ... try again" and /healthz says which and since when;
the ingest worker holds the batch instead of quarantining its messages as bad ones."""

from __future__ import annotations

import threading
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import func, select

from central.db import make_engine, session_factory
from central.evidence_store import FolderEvidenceStore
from central.ingest import IngestWorker, Received
from central.settings import CentralSettings
from central.tables import Infraction, QuarantinedMessage
from central.verify import Verifier
from models.config.mqtt import MqttConfig
from tests.console_support import PASSWORDS, Central, free_port, make_central, seed, serve

READ_ONLY = "options=-c%20default_transaction_read_only%3Don"


def _bearer(base: str, user: str) -> dict[str, str]:
    token = httpx.post(f"{base}/api/v1/session", json={"username": user, "password": PASSWORDS[user]}, timeout=10)
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['token']}"}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_read_only_database_answers_503_and_changes_nothing(db_url, tmp_path):
    central = make_central(db_url, tmp_path)
    event_id = seed(central)
    with serve(central) as writable:
        alice = _bearer(writable, "alice")
    standby = replace(central, factory=session_factory(make_engine(f"{db_url}?{READ_ONLY}")))
    with serve(standby) as base, httpx.Client(base_url=base, timeout=10) as client:
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json() == {"database": "read-only", "since": None}
        assert health.headers["retry-after"] == "5"
        decision = {"decision": "reject", "reason": "not an infraction", "version": 0}
        refused = client.post(f"/api/v1/infractions/{event_id}/decision", json=decision, headers=alice)
        assert refused.status_code == 503, refused.text
        assert (
            refused.json()["detail"].startswith("database unavailable: it takes no writes")
            and "try again" in refused.text
        )
    with central.factory() as session:
        assert session.scalar(select(Infraction.review_state).where(Infraction.event_id == event_id)) == "pending"


def test_an_unreachable_database_answers_503_since_its_first_failure(tmp_path):
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere?connect_timeout=2"
    gone = Central(url, session_factory(make_engine(url)), FolderEvidenceStore(tmp_path), CentralSettings())
    with serve(gone) as base, httpx.Client(base_url=base, timeout=10) as client:
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["database"] == "unavailable", health.text
        since = health.json()["since"]
        assert since
        api = client.get("/api/v1/queue", headers={"Authorization": "Bearer whatever"})
        assert api.status_code == 503 and api.json()["detail"].startswith("database unavailable since "), api.text
        page = client.get("/cameras", headers={"Authorization": "Bearer whatever"})
        assert (
            page.status_code == 503 and "Unavailable for now" in page.text and "database unavailable since" in page.text
        )
        assert client.get("/healthz").json()["since"] == since, "an outage keeps the time it began"


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_worker_holds_a_batch_a_standby_refuses_instead_of_quarantining_it(db_url, tmp_path):
    make_central(db_url, tmp_path)
    worker = IngestWorker(
        f"{db_url}?{READ_ONLY}",
        MqttConfig(url=f"mqtt://127.0.0.1:{free_port()}"),
        Verifier({}),
        tmp_path,
        "central-test",
    )
    # Unsigned junk: on a writable database it would be quarantined (and receipted as such) at once.
    batch = [Received(1, 1, "curbwatch/v1/site1/cam1/infraction", b"not json", 0)]
    holding = threading.Thread(target=worker.process, args=(batch,))
    holding.start()
    holding.join(2.5)
    worker.stop.set()
    holding.join(10)
    worker.engine.dispose()
    assert worker.counts["storage_retries"] >= 2 and worker.counts["receipts"] == 0, worker.counts
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(QuarantinedMessage)) == 0
    engine.dispose()
