"""The embedded MQTT 5 broker of `curbwatch demo` with the real edge publisher and central worker: shared
subscription, PUBACK 0x10 while nobody subscribed, a restart in the middle of a stream, and the Last Will."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import select

from central.tables import CameraStatus
from curbwatch.embedded_broker import EmbeddedBroker
from edge.loadgen import synthetic_event_id
from tests.conftest import run_cli
from tests.transport_kit import Db, make_camera, migrate, start_loadgen, start_worker, stop, wait_subscribed

pytestmark = pytest.mark.timeout(150)


def stored_ids(db_url: str) -> list[str]:
    listed = run_cli("central", "list", "--db", db_url, "--json")
    assert listed.returncode == 0, listed.stderr
    return [json.loads(line)["event_id"] for line in listed.stdout.splitlines()]


def test_restart_in_mid_stream_loses_nothing_and_stores_each_event_once(tmp_path):
    count = 400
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(db_url)
    broker = EmbeddedBroker(tmp_path / "broker.json").start()
    config = make_camera(tmp_path, "cam1", broker.url)
    worker = start_worker(tmp_path, db_url, broker.url)  # `$share/central/...`, as in production
    db = Db(db_url)
    try:
        wait_subscribed(tmp_path)
        edge = start_loadgen(config, count, "--rate", "200")
        assert db.wait_for(lambda d: d.count() >= 60, 60)
        broker.stop()  # sessions, queued messages and retained status go to broker.json
        assert (tmp_path / "broker.json").is_file()
        time.sleep(1.0)
        broker = EmbeddedBroker(tmp_path / "broker.json", port=broker.port).start()
        assert edge.wait(90) == 0, edge.stderr.read()
        assert db.wait_for(lambda d: d.count() >= count, 60)
    finally:
        db.close()
        assert stop(worker) == 0
        broker.stop()
    ids = stored_ids(db_url)
    assert len(ids) == len(set(ids)) == count
    assert set(ids) == {str(synthetic_event_id("cam1", 0, index)) for index in range(count)}


def camera_state(db: Db, camera_id: str) -> str | None:
    with db.factory() as session:
        return session.scalar(select(CameraStatus.state).where(CameraStatus.camera_id == camera_id))


def test_messages_wait_at_the_edge_until_central_subscribes_and_the_will_marks_it_offline(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(db_url)
    with EmbeddedBroker(tmp_path / "broker.json") as broker:
        config = make_camera(tmp_path, "cam1", broker.url)
        edge = start_loadgen(config, 20)
        # PUBACK 0x10 (no matching subscribers): the publisher keeps the rows and tries again.
        for line in edge.stderr:
            if "no subscriber took a message" in line:
                break
        else:
            pytest.fail("the publisher never saw PUBACK 0x10")
        worker = start_worker(tmp_path, db_url, broker.url)
        db = Db(db_url)
        try:
            assert edge.wait(90) == 0
            assert db.wait_for(lambda d: d.count() == 20, 30)
            # The edge left with "disconnect with will message": its Last Will says `offline`.
            assert db.wait_for(lambda d: camera_state(d, "cam1") == "offline", 30)
        finally:
            db.close()
            assert stop(worker) == 0
    assert len(stored_ids(db_url)) == 20
