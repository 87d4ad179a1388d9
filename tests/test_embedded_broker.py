"""The embedded MQTT 5 broker of `curbwatch demo` with the real edge publisher and central worker: shared
subscription, PUBACK 0x10 while nobody subscribed, a restart in the middle of a stream, and the Last Will."""

from __future__ import annotations

import json
import socket
import time

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import select

from central.tables import CameraStatus
from curbwatch.embedded_broker import EmbeddedBroker, matches
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


def mqtt5_client(broker: EmbeddedBroker, client_id: str, received: list[str]) -> mqtt.Client:
    version = mqtt.CallbackAPIVersion.VERSION2
    client = mqtt.Client(callback_api_version=version, client_id=client_id, protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, message: received.append(message.payload.decode())
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


def test_a_shared_group_splits_the_stream_and_a_plain_subscriber_gets_it_all():
    with EmbeddedBroker() as broker:
        first, second, everything = [], [], []
        clients = [
            mqtt5_client(broker, "worker-1", first),
            mqtt5_client(broker, "worker-2", second),
            mqtt5_client(broker, "watcher", everything),
        ]
        for client, topic in zip(clients, ["$share/central/cw/#", "$share/central/cw/#", "cw/+/status"], strict=True):
            client.subscribe(topic, qos=1)
        publisher = mqtt5_client(broker, "camera", [])
        time.sleep(0.5)
        for index in range(20):
            publisher.publish("cw/cam1/status", str(index), qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 10
        while len(first) + len(second) < 20 or len(everything) < 20:
            assert time.monotonic() < deadline, (first, second, everything)
            time.sleep(0.05)
        assert sorted(first + second, key=int) == [str(i) for i in range(20)]
        assert first and second and len(everything) == 20
        for client in [*clients, publisher]:
            client.disconnect()
            client.loop_stop()


def test_an_mqtt_3_client_is_told_the_protocol_version_is_unsupported():
    with EmbeddedBroker() as broker, socket.create_connection(("127.0.0.1", broker.port), timeout=5) as sock:
        sock.sendall(b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00")  # what paho sends for MQTT 3.1.1
        assert sock.recv(16) == b"\x20\x02\x00\x01"  # CONNACK 3.1.1: unacceptable protocol version
        assert sock.recv(16) == b""  # and the broker hangs up


@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("a/+/c", "a/b/c", True),
        ("a/+", "a/b/c", False),
        ("#", "$SYS/broker", False),
        ("+/x", "$share/x", False),
        ("a/b", "a/b", True),
    ],
)
def test_topic_matching(topic_filter, topic, expected):
    assert matches(topic_filter, topic) is expected
