"""Central past one machine: two `central run` workers as separate processes, each with a data folder of its
own as if on its own host, splitting one broker's stream into one PostgreSQL database, with evidence in a
shared S3-compatible object store. Every event is stored once, and the console each worker serves hands out
every evidence file, whichever worker received it."""

import hashlib

import httpx
import pytest
from sqlalchemy import select

from central.console.auth import add_user
from central.db import transaction
from central.tables import EvidenceLink
from curbwatch.local_broker import LocalBroker, free_port
from edge.loadgen import synthetic_event_id, synthetic_evidence
from tests.console_support import PASSWORDS, wait_console
from tests.object_store_kit import object_store, s3_endpoint, settings_file, stored_keys  # noqa: F401
from tests.test_transport_faults import listed_ids, worker_totals
from tests.transport_kit import Db, make_camera, migrate, start_loadgen, start_worker, stop, wait_subscribed

pytestmark = pytest.mark.timeout(150)
COUNT = 120
HOSTS = ("host-a", "host-b")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_hosts_store_each_event_once_and_serve_all_evidence(tmp_path, db_url, object_store):  # noqa: F811
    migrate(db_url)
    db = Db(db_url)
    with transaction(db.factory) as session:
        add_user(session, "audrey", PASSWORDS["audrey"], "auditor", issued_by="root")
    settings = settings_file(tmp_path / "central.yaml", object_store)
    consoles = {host: f"http://127.0.0.1:{free_port()}" for host in HOSTS}
    with LocalBroker(tmp_path / "broker") as broker:
        config = make_camera(tmp_path, "cam1", broker.url)
        # Each host has its own data folder (the later --data-dir wins over start_worker's shared one).
        workers = [
            start_worker(
                tmp_path,
                db_url,
                broker.url,
                host,
                *("--data-dir", str(tmp_path / host), "--settings", str(settings)),
                *("--http", consoles[host].removeprefix("http://")),
            )
            for host in HOSTS
        ]
        try:
            for host in HOSTS:
                wait_subscribed(tmp_path, host)
            edge = start_loadgen(config, COUNT, "--evidence")
            assert edge.wait(90) == 0, edge.stderr.read()
            assert db.wait_for(lambda d: d.count() >= COUNT and d.linked_evidence() >= COUNT, 60)
            with db.factory() as session:
                links = list(session.execute(select(EvidenceLink.event_id, EvidenceLink.sha256)))
            assert len(links) == COUNT
            for host in HOSTS:
                wait_console(consoles[host], timeout=30)
                with httpx.Client(base_url=consoles[host], timeout=30) as client:
                    token = client.post("/api/v1/session", json={"username": "audrey", "password": PASSWORDS["audrey"]})
                    auth = {"Authorization": f"Bearer {token.json()['token']}"}
                    for event_id, sha256 in links:
                        answer = client.get(f"/api/v1/infractions/{event_id}/evidence/{sha256}", headers=auth)
                        assert answer.status_code == 200, (host, answer.text)
                        assert hashlib.sha256(answer.content).hexdigest() == sha256
        finally:
            db.close()
            assert [stop(worker) for worker in workers] == [0, 0]
    ids = listed_ids(db_url)
    assert len(ids) == len(set(ids)) == COUNT, "an event was stored twice"
    assert set(ids) == {str(synthetic_event_id("cam1", 0, i)) for i in range(COUNT)} == {e for e, _ in links}
    totals = [worker_totals(tmp_path, host) for host in HOSTS]
    assert sum(t.get("stored", 0) for t in totals) == COUNT
    assert all(t.get("stored", 0) + t.get("evidence", 0) > COUNT // 5 for t in totals), totals
    expected = {hashlib.sha256(synthetic_evidence("cam1", 0, i)).hexdigest() for i in range(COUNT)}
    assert {key.rsplit("/", 1)[1] for key in stored_keys(object_store)} == expected
    for host in HOSTS:  # nothing landed on either host's own disk
        assert not (tmp_path / host / "evidence").exists()
        assert f"evidence goes to s3://{object_store.bucket}/evidence/" in (tmp_path / f"{host}.log").read_text()
