"""Exactly once through real failures: a real Mosquitto, real edge and central processes, SQLite and
PostgreSQL. Every test checks the stored set of event ids against the generated one."""

from __future__ import annotations

import ast
import json
import re
import signal
import time

import pytest

from curbwatch.local_broker import LocalBroker
from edge.loadgen import synthetic_event_id
from tests.conftest import run_cli
from tests.transport_kit import Db, make_camera, migrate, start_loadgen, start_worker, stop, wait_subscribed

pytestmark = pytest.mark.timeout(150)
COUNT = 1000


def expected_ids(camera: str = "cam1", count: int = COUNT) -> set[str]:
    return {str(synthetic_event_id(camera, 0, index)) for index in range(count)}


def listed_ids(db_url: str) -> list[str]:
    result = run_cli("central", "list", "--db", db_url, "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(line["review_state"] == "pending" and line["signature"] for line in lines)
    return [line["event_id"] for line in lines]


def assert_stored_once(db_url: str, camera: str = "cam1") -> None:
    ids = listed_ids(db_url)
    assert len(ids) == len(set(ids)), "an event was stored twice"
    assert set(ids) == expected_ids(camera), f"{len(expected_ids(camera) - set(ids))} events lost"


def worker_totals(tmp_path, client_id: str) -> dict:
    log = (tmp_path / f"{client_id}.log").read_text()
    found = re.findall(r"ingest stopped: (\{.*\})", log)
    assert found, log[-2000:]
    return ast.literal_eval(found[-1])


@pytest.fixture
def broker(tmp_path):
    with LocalBroker(tmp_path / "broker") as running:
        yield running


def test_broker_restart_while_publishing_loses_nothing(tmp_path, db_url, broker):
    migrate(db_url)
    config = make_camera(tmp_path, "cam1", broker.url)
    worker = start_worker(tmp_path, db_url, broker.url)
    edge = start_loadgen(config, COUNT, "--rate", "400")
    db = Db(db_url)
    try:
        assert db.wait_for(lambda d: d.count() >= 150, 60)
        broker.stop(signal.SIGTERM)
        stored_while_down = db.count()
        time.sleep(1.5)
        broker.start()
        assert edge.wait(90) == 0, edge.stderr.read()
        assert db.wait_for(lambda d: d.count() >= COUNT, 60)
        assert stored_while_down < COUNT
    finally:
        db.close()
        assert stop(worker) == 0
    assert_stored_once(db_url)


def test_edge_killed_mid_publish_resumes_from_its_outbox(tmp_path, db_url, broker):
    migrate(db_url)
    config = make_camera(tmp_path, "cam1", broker.url, inflight=5)
    worker = start_worker(tmp_path, db_url, broker.url)
    db = Db(db_url)
    try:
        edge = start_loadgen(config, COUNT)
        assert edge.stdout.readline().strip() == f"queued {COUNT}"
        assert db.wait_for(lambda d: d.count() >= 50, 60)
        edge.send_signal(signal.SIGKILL)
        edge.wait(10)
        at_kill = db.count()
        assert at_kill < COUNT, "the edge finished before it was killed; the test proves nothing"
        restarted = start_loadgen(config, 0)
        assert restarted.wait(90) == 0, restarted.stderr.read()
        assert db.wait_for(lambda d: d.count() >= COUNT, 60)
    finally:
        db.close()
        assert stop(worker) == 0
    assert_stored_once(db_url)


def test_central_worker_killed_mid_stream_misses_nothing(tmp_path, db_url, broker):
    migrate(db_url)
    config = make_camera(tmp_path, "cam1", broker.url)
    worker = start_worker(tmp_path, db_url, broker.url)
    edge = start_loadgen(config, COUNT, "--rate", "400")
    db = Db(db_url)
    try:
        assert db.wait_for(lambda d: d.count() >= 150, 60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        at_kill = db.count()
        time.sleep(1.0)
        worker = start_worker(tmp_path, db_url, broker.url)
        assert edge.wait(90) == 0, edge.stderr.read()
        assert db.wait_for(lambda d: d.count() >= COUNT, 60)
        assert at_kill < COUNT
    finally:
        db.close()
        assert stop(worker) == 0
    assert_stored_once(db_url)


def test_two_workers_share_the_stream(tmp_path, db_url, broker):
    migrate(db_url)
    config = make_camera(tmp_path, "cam1", broker.url)
    workers = [start_worker(tmp_path, db_url, broker.url, f"central-{n}") for n in (1, 2)]
    db = Db(db_url)
    try:
        for n in (1, 2):  # both subscribed before the first message, so the split is visible
            wait_subscribed(tmp_path, f"central-{n}")
        edge = start_loadgen(config, COUNT, "--evidence")
        assert edge.wait(90) == 0, edge.stderr.read()
        assert db.wait_for(lambda d: d.count() >= COUNT and d.linked_evidence() >= COUNT, 60)
    finally:
        db.close()
        assert [stop(worker) for worker in workers] == [0, 0]
    assert_stored_once(db_url)
    totals = [worker_totals(tmp_path, f"central-{n}") for n in (1, 2)]
    assert sum(t.get("stored", 0) for t in totals) == COUNT
    assert sum(t.get("evidence", 0) for t in totals) == COUNT
    handled = [t.get("stored", 0) + t.get("evidence", 0) for t in totals]
    assert all(share > COUNT // 5 for share in handled), totals
