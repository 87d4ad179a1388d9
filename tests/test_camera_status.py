"""Heartbeats and the Last Will reach central's camera status; bad invocations fail with one clear line."""

from __future__ import annotations

import signal

from sqlalchemy import select

from central.tables import CameraStatus
from curbwatch.local_broker import LocalBroker
from tests.conftest import run_cli
from tests.transport_kit import Db, make_camera, migrate, start_loadgen, start_worker, stop, wait_subscribed


def status_of(db: Db) -> CameraStatus | None:
    with db.factory() as session:
        return session.scalar(select(CameraStatus).where(CameraStatus.camera_id == "cam1"))


def test_heartbeat_then_last_will_after_the_edge_is_killed(tmp_path):
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(db_url)
    with LocalBroker(tmp_path / "broker") as broker:
        config = make_camera(tmp_path, "cam1", broker.url, keepalive_s=5)
        worker = start_worker(tmp_path, db_url, broker.url)
        edge = start_loadgen(config, 200, "--rate", "5")
        db = Db(db_url)
        try:
            assert db.wait_for(lambda d: (s := status_of(d)) is not None and s.heartbeat is not None, 30)
            beat = status_of(db)
            assert beat.state == "online"
            assert {"uptime_s", "fps", "queue_depth", "model"} <= set(beat.heartbeat)
            edge.send_signal(signal.SIGKILL)
            edge.wait(10)
            # The broker sends the signed Last Will 1.5 keepalives after the edge went silent.
            assert db.wait_for(lambda d: status_of(d).state == "offline", 30)
        finally:
            db.close()
            assert stop(worker) == 0


def test_central_run_migrates_a_new_sqlite_database_but_not_postgresql(tmp_path, db_url):
    (tmp_path / "keys").mkdir()
    if db_url.startswith("postgresql"):
        result = run_cli("central", "run", "--db", db_url, "--keys", str(tmp_path / "keys"), timeout=60)
        assert result.returncode == 1 and "central migrate" in result.stderr and "Traceback" not in result.stderr
        return
    with LocalBroker(tmp_path / "broker") as broker:
        worker = start_worker(tmp_path, db_url, broker.url)
        try:
            wait_subscribed(tmp_path)
        finally:
            assert stop(worker) == 0
    log = (tmp_path / "central-1.log").read_text()
    assert "is a new, empty SQLite database: migrating it to the newest schema first" in log
    assert "Traceback" not in log
    listed = run_cli("central", "list", "--db", db_url, "--json", timeout=60)
    assert listed.returncode == 0 and listed.stdout == ""


def test_clear_errors_for_bad_invocations(tmp_path):
    unmigrated = f"sqlite:///{tmp_path / 'empty.db'}"
    result = run_cli("central", "run", "--db", unmigrated, "--keys", str(tmp_path / "nokeys"), timeout=60)
    assert result.returncode == 1 and "does not exist" in result.stderr
    result = run_cli("central", "list", "--db", unmigrated, "--json", timeout=60)
    assert result.returncode == 1 and "cannot read the database" in result.stderr and "Traceback" not in result.stderr

    config = make_camera(tmp_path, "cam1", "mqtt://127.0.0.1:1")
    config.write_text(config.read_text().replace("signing:\n  key:", "signing:\n  key: null\n  #"))
    edge = start_loadgen(config, 1)
    _out, err = edge.communicate(timeout=60)
    assert edge.returncode == 1 and "has no signing.key" in err and "Traceback" not in err
