"""End-to-end receipts (issue 11 §1): an event leaves the edge outbox only when central's signed receipt
says central holds it. Real Mosquitto, real `central run` and edge processes; the outbox file is read
directly to see what the edge still holds."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from curbwatch.local_broker import LocalBroker
from edge.loadgen import synthetic_event_id
from edge.outbox import Outbox, digest
from models.receipt import ReceiptMessage
from models.signing import generate_keypair, load_private_key, sign
from models.topics import receipt_topic
from tests.test_transport_faults import worker_totals
from tests.transport_kit import SITE, Db, make_camera, make_receipt_key, migrate, start_loadgen, start_worker, stop

pytestmark = pytest.mark.timeout(150)
FAST_RESEND = {"resend_after_s": 1.0, "resend_max_s": 2.0}


@pytest.fixture
def broker(tmp_path):
    with LocalBroker(tmp_path / "broker") as running:
        yield running


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'central.db'}"


def held(outbox: Path) -> list[tuple[str, int]]:
    """(payload digest, broker-acknowledged sends) of each event row the edge still holds, oldest first;
    none while the edge has not made its outbox yet."""
    if not outbox.exists():
        return []
    db = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)
    try:
        return db.execute("SELECT digest, tries FROM outbox WHERE topic NOT LIKE '%/status' ORDER BY seq").fetchall()
    except sqlite3.OperationalError:  # created, but its tables not yet
        return []
    finally:
        db.close()


def receipt_camera(tmp: Path, broker_url: str, **mqtt_settings: object) -> tuple[Path, Path]:
    """Central's receipt key and a camera that waits for receipts; returns (camera YAML, outbox file)."""
    key = make_receipt_key(tmp)
    config = make_camera(
        tmp, "cam1", broker_url, central_key=key.with_suffix(".pub"), outbox=FAST_RESEND, **mqtt_settings
    )
    return config, tmp / "outbox-cam1.db"


def start_central(tmp: Path, db_url: str, broker_url: str) -> subprocess.Popen:
    """A `central run` that signs receipts; its log starts afresh, so `wait_subscribed` means this run."""
    (tmp / "central-1.log").write_text("")
    return start_worker(tmp, db_url, broker_url, "central-1", "--receipt-key", str(tmp / "central-keys/central.key"))


def wait_subscribed(tmp: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while "subscribed to" not in (tmp / "central-1.log").read_text():
        assert time.monotonic() < deadline, "central did not subscribe"
        time.sleep(0.1)


def leave_central_session(tmp: Path, db_url: str, broker_url: str) -> None:
    """Run central once and stop it: its persistent session and shared subscription stay on the broker,
    which from then on acknowledges and queues the camera's messages for it."""
    worker = start_central(tmp, db_url, broker_url)
    wait_subscribed(tmp)
    assert stop(worker) == 0


def publish_while_central_is_down(config: Path, outbox: Path, count: int) -> None:
    """The edge publishes `count` events with evidence and gives up waiting for receipts after 3 s."""
    edge = start_loadgen(config, count, "--evidence", "--drain-timeout", "3")
    _out, err = edge.communicate(timeout=60)
    assert edge.returncode == 1 and "outbox is not empty" in err, err[-2000:]
    rows = held(outbox)
    assert len(rows) == 2 * count, "the edge let go of an event without a receipt"
    assert all(tries >= 1 for _digest, tries in rows), "the broker did not acknowledge every message"


def assert_stored_once(db_url: str, count: int) -> None:
    db = Db(db_url)
    try:
        ids = db.event_ids()
        assert len(ids) == len(set(ids)), "an event was stored twice"
        assert set(ids) == {str(synthetic_event_id("cam1", 0, i)) for i in range(count)}
        assert db.linked_evidence() == count
    finally:
        db.close()


def test_broker_killed_after_acknowledging_loses_nothing(tmp_path, db_url, broker):
    """The issue's scenario: central stopped, the broker acknowledges and queues every event for central's
    session, is SIGKILLed before it saved them and restarted; central starts again. The broker lost them
    all, and the edge, which kept them for want of receipts, sends them on its next run."""
    count = 20
    migrate(db_url)
    config, outbox = receipt_camera(tmp_path, broker.url)
    leave_central_session(tmp_path, db_url, broker.url)
    publish_while_central_is_down(config, outbox, count)

    broker.stop(signal.SIGKILL)
    broker.start()
    worker = start_central(tmp_path, db_url, broker.url)
    db = Db(db_url)
    try:
        wait_subscribed(tmp_path)
        time.sleep(1.0)
        assert db.count() == 0, "the broker kept what it acknowledged: this test proves nothing"
        again = start_loadgen(config, 0)  # a later run of the edge with the same outbox
        assert again.wait(60) == 0, again.stderr.read()
        assert db.count() == count
    finally:
        db.close()
        assert stop(worker) == 0
    assert held(outbox) == []
    assert_stored_once(db_url, count)
    totals = worker_totals(tmp_path, "central-1")
    assert (totals["stored"], totals["evidence"], totals.get("duplicates", 0)) == (count, count, 0)


def test_receipts_lost_while_the_edge_was_offline_are_earned_again(tmp_path, sqlite_url, broker):
    """Central stores the events while the edge is offline and its receipts reach nobody (the edge keeps no
    broker session): the edge still holds everything, sends it again, and central absorbs the copies as
    duplicates and receipts them."""
    count = 20
    migrate(sqlite_url)
    config, outbox = receipt_camera(tmp_path, broker.url, session_expiry_s=0)
    leave_central_session(tmp_path, sqlite_url, broker.url)
    publish_while_central_is_down(config, outbox, count)

    worker = start_central(tmp_path, sqlite_url, broker.url)
    db = Db(sqlite_url)
    try:
        assert db.wait_for(lambda d: d.count() == count and d.linked_evidence() == count, 60)
        assert len(held(outbox)) == 2 * count, "a receipt reached an edge that was not running"
        again = start_loadgen(config, 0)
        assert again.wait(60) == 0, again.stderr.read()
    finally:
        db.close()
        assert stop(worker) == 0
    assert held(outbox) == []
    assert_stored_once(sqlite_url, count)
    totals = worker_totals(tmp_path, "central-1")
    # The copies the edge sent again: at least one of each event on its second run, and the resends of its
    # first run that the broker queued for central meanwhile.
    assert totals["stored"] == count and totals["duplicates"] >= count


def test_central_killed_mid_batch_every_event_receipted_once(tmp_path, sqlite_url, broker):
    count = 400
    migrate(sqlite_url)
    config, outbox = receipt_camera(tmp_path, broker.url)
    worker = start_central(tmp_path, sqlite_url, broker.url)
    db = Db(sqlite_url)
    try:
        wait_subscribed(tmp_path)
        edge = start_loadgen(config, count, "--evidence", "--rate", "200")
        assert db.wait_for(lambda d: d.count() >= 60, 60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        at_kill = db.count()
        assert at_kill < count, "central finished before it was killed; the test proves nothing"
        time.sleep(1.5)  # long enough for the edge to send unreceipted messages again meanwhile
        worker = start_central(tmp_path, sqlite_url, broker.url)
        assert edge.wait(90) == 0, edge.stderr.read()
    finally:
        db.close()
        assert stop(worker) == 0
    assert held(outbox) == []
    assert_stored_once(sqlite_url, count)


class Mqtt:
    """A plain paho client for the tests: publishes at QoS 1 and keeps what it receives and its PUBACKs."""

    def __init__(self, url: str, client_id: str, username: str | None = None, password: str | None = None) -> None:
        host, port = url.removeprefix("mqtt://").split(":")
        self.received: list[bytes] = []
        self.acks: dict[int, mqtt.ReasonCode] = {}
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_connect = lambda *_: self.ready.set()
        self.client.on_message = lambda _c, _u, message: self.received.append(bytes(message.payload))
        self.client.on_publish = lambda _c, _u, mid, code, _p: self.acks.__setitem__(mid, code)
        self.client.connect(host, int(port))
        self.client.loop_start()
        assert self.ready.wait(10), f"{client_id} could not connect"

    def publish(self, topic: str, payload: bytes, timeout: float = 10.0) -> mqtt.ReasonCode | None:
        """The PUBACK's reason code, or None when none came within `timeout`."""
        mid = self.client.publish(topic, payload, qos=1).mid
        deadline = time.monotonic() + timeout
        while mid not in self.acks and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.acks.get(mid)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def receipt(digests: list[str], camera_id: str = "cam1") -> dict:
    return ReceiptMessage(site=SITE, camera_id=camera_id, at=datetime.now(UTC), stored=digests).to_payload()


def encode(message: dict) -> bytes:
    return json.dumps(message).encode()


def test_forged_receipts_are_ignored_and_logged(tmp_path, sqlite_url, broker):
    migrate(sqlite_url)
    config, outbox = receipt_camera(tmp_path, broker.url)
    leave_central_session(tmp_path, sqlite_url, broker.url)
    central_key = load_private_key(tmp_path / "central-keys/central.key")
    forger_key = load_private_key(generate_keypair("forger", tmp_path / "forger")[0])
    log = tmp_path / "edge.log"
    edge = start_loadgen(config, 3, "--drain-timeout", "20", log=log)
    forger = Mqtt(broker.url, "forger")
    try:
        deadline = time.monotonic() + 30
        while len(rows := held(outbox)) < 3 or any(tries < 1 for _d, tries in rows):
            assert time.monotonic() < deadline, "the broker did not acknowledge the events"
            time.sleep(0.1)
        digests = [row_digest for row_digest, _tries in rows]
        topic = receipt_topic(SITE, "cam1")
        for forged in (
            encode(receipt(digests)),  # unsigned
            encode(sign(receipt(digests), forger_key)),  # signed, by a key that is not central's
            encode(sign(receipt(digests, camera_id="cam2"), central_key)),  # central's, for another camera
            b"not json",
        ):
            assert forger.publish(topic, forged) == 0
        # Central's real receipt for one message, after the forgeries on the same topic: once it has
        # released its row, the edge has read every forgery before it.
        assert forger.publish(topic, encode(sign(receipt(digests[:1]), central_key))) == 0
        while len(held(outbox)) == 3:
            assert time.monotonic() < deadline, "a genuine receipt released nothing"
            time.sleep(0.05)
        assert [row_digest for row_digest, _tries in held(outbox)] == digests[1:]
    finally:
        forger.close()
        edge.send_signal(signal.SIGTERM)
        edge.wait(30)
    text = log.read_text()
    assert text.count("ignored a receipt") == 4, text[-3000:]
    assert "possibly forged" in text and "addressed to site1/cam2" in text and "not JSON" in text


def test_documented_acl_lets_only_central_write_and_only_the_camera_read_receipts(tmp_path):
    from tests.test_mosquitto_auth import documented_broker, secret

    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(db_url)
    broker = documented_broker(tmp_path / "broker")
    subprocess.run(["mosquitto_passwd", "-b", str(tmp_path / "broker/curbwatch.passwd"), "cam2", "pw-cam2"], check=True)
    with broker:
        config, outbox = receipt_camera(
            tmp_path, broker.url, username="cam1", password_file=secret(tmp_path, "cam1.pw", "pw-cam1")
        )
        central_password = secret(tmp_path, "central.pw", "pw-central")
        worker = start_worker(
            tmp_path,
            db_url,
            broker.url,
            "central-1",
            *("--username", "central", "--password-file", central_password),
            *("--receipt-key", str(tmp_path / "central-keys/central.key")),
        )
        watcher = Mqtt(broker.url, "watcher", "central", "pw-central")  # central reads every receipt
        spy = Mqtt(broker.url, "spy", "cam2", "pw-cam2")
        cam1 = Mqtt(broker.url, "cam1-forger", "cam1", "pw-cam1")
        try:
            watcher.client.subscribe("curbwatch/v1/+/+/receipt", qos=1)
            spy.client.subscribe(receipt_topic(SITE, "cam1"), qos=1)
            edge = start_loadgen(config, 5)
            # Drained means receipted: central may write cam1's receipt topic and cam1 may read it.
            assert edge.wait(60) == 0, edge.stderr.read()
            assert held(outbox) == [] and watcher.received
            seen = len(watcher.received)
            forged = cam1.publish(receipt_topic(SITE, "cam1"), encode(receipt(["0" * 64])), timeout=3)
            # Mosquitto answers "Not authorized", or drops the connection before the answer is read.
            assert forged is None or forged.is_failure
            time.sleep(1.0)
            assert len(watcher.received) == seen, "the broker took a receipt from a camera"
            assert spy.received == [], "another camera read cam1's receipts"
        finally:
            for client in (watcher, spy, cam1):
                client.close()
            assert stop(worker) == 0


def test_outbox_keeps_acknowledged_rows_until_a_receipt_and_backs_off(tmp_path):
    outbox = Outbox(tmp_path / "o.db", resend_after_s=0.3, resend_max_s=0.5)
    assert outbox.enqueue("e1", [("t/evidence/a", b"jpeg", False), ("t/infraction", b"{1}", False)])
    seqs = [row.seq for row in outbox.after(0, 10)]
    outbox.await_receipt(seqs)
    assert outbox.take_due(10) == [] and outbox.depth() == 2
    time.sleep(0.35)
    assert [row.payload for row in outbox.take_due(10)] == [b"jpeg", b"{1}"]
    assert outbox.take_due(10) == [], "a row being sent again was taken twice"
    outbox.await_receipt(seqs)  # second try: waits 0.6 s, capped at 0.5 s
    time.sleep(0.35)
    assert outbox.take_due(10) == []
    time.sleep(0.25)
    assert len(outbox.take_due(10)) == 2
    assert outbox.release([digest(b"jpeg"), digest(b"unknown")]) == 1
    assert outbox.reject_digest(digest(b"{1}"), "quarantined by central: stale") == 1
    assert outbox.depth() == 0 and outbox.rejected() == [("t/infraction", "quarantined by central: stale")]


def test_an_outbox_from_before_receipts_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, grp TEXT NOT NULL, topic TEXT NOT NULL, "
            "payload BLOB NOT NULL, retain INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL)"
        )
        db.execute("INSERT INTO outbox (grp, topic, payload, created_at) VALUES ('e1', 't/infraction', x'7b7d', 1)")
    outbox = Outbox(path)
    assert [row.payload for row in outbox.after(0, 10)] == [b"{}"]
    assert outbox.release([digest(b"{}")]) == 1 and outbox.depth() == 0


def test_central_key_missing_file_is_named_and_no_key_falls_back_with_a_warning(tmp_path, caplog):
    from edge.outbox_sink import receipts_for
    from models.config.camera import load_camera_config
    from models.signing import SigningKeyError

    without = load_camera_config(make_camera(tmp_path, "cam1", "mqtt://127.0.0.1:1"))
    with caplog.at_level("WARNING"):
        assert receipts_for(without) is None
    assert "no signing.central_key" in caplog.text and "broker crash can lose them" in caplog.text
    missing = load_camera_config(make_camera(tmp_path, "cam1", "mqtt://127.0.0.1:1", central_key=tmp_path / "no.pub"))
    with pytest.raises(SigningKeyError, match=r"^signing\.central_key: cannot read public key"):
        receipts_for(missing)
