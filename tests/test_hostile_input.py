"""Nothing forged or malformed gets in, and the worker keeps serving: the checks on hand-made and
fuzzed input, then the same through a real broker and worker process."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.verify import Accepted, Refused, Verifier
from curbwatch.local_broker import LocalBroker
from edge.loadgen import synthetic_message
from edge.publisher import encode
from models.signing import generate_keypair, load_private_key, load_public_keys, sign
from models.status import StatusMessage
from models.topics import evidence_topic, infraction_topic, status_topic
from tests.conftest import run_cli
from tests.transport_kit import SITE, Db, make_camera, migrate, start_worker, stop, wait_subscribed


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    for camera in ("cam1", "cam2"):
        generate_keypair(camera, folder)
    return folder


def signed_payload(keys, camera="cam1", signer=None, index=0, **changes) -> bytes:
    message = synthetic_message(SITE, camera, 99, index, []).to_payload() | changes
    return encode(sign(message, load_private_key(keys / f"{signer or camera}.key")))


def test_each_kind_of_bad_message_is_refused_with_its_reason(keys):
    verifier = Verifier(load_public_keys(keys))
    topic = infraction_topic(SITE, "cam1")
    good = signed_payload(keys)
    assert isinstance(verifier.check(topic, good), Accepted)
    old = (datetime.now(UTC) - timedelta(days=60)).isoformat()
    cases = {
        "oversize": b"{" + b" " * 70_000 + b"}",
        "malformed": b"\xff\xfe not json",
        "unknown schema": signed_payload(keys, schema="curbwatch.infraction/9"),
        "on the topic of": signed_payload(keys, camera="cam2"),
        "unsigned": encode(synthetic_message(SITE, "cam1", 99, 0, []).to_payload()),
        "bad signature": signed_payload(keys, signer="cam2"),
        "stale": signed_payload(keys, started_at=old, ended_at=old),
        "invalid message": signed_payload(keys, confidence=7),
    }
    for reason, payload in cases.items():
        with pytest.raises(Refused, match=reason):
            verifier.check(topic, payload)
    with pytest.raises(Refused, match="bad topic"):
        verifier.check("elsewhere/site1/cam1/infraction", good)
    with pytest.raises(Refused, match="unknown camera"):
        verifier.check(infraction_topic(SITE, "cam9"), good)
    with pytest.raises(Refused, match="do not hash"):
        verifier.check(evidence_topic(SITE, "cam1", "0" * 64), b"jpeg")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(["infraction", "status", "evidence/" + "a" * 64, "other"]),
    payload=st.one_of(
        st.binary(max_size=2000),
        st.recursive(
            st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
            lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
            max_leaves=30,
        ).map(lambda value: json.dumps(value).encode()),
    ),
)
def test_random_payloads_are_refused_never_crash(keys, kind, payload):
    verifier = Verifier(load_public_keys(keys))
    with pytest.raises(Refused):
        verifier.check(f"curbwatch/v1/{SITE}/cam1/{kind}", payload)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_signed_messages_are_refused_unless_unchanged(keys, data):
    verifier = Verifier(load_public_keys(keys))
    good = signed_payload(keys)
    position = data.draw(st.integers(0, len(good) - 1))
    replacement = data.draw(st.binary(min_size=0, max_size=3))
    mutated = good[:position] + replacement + good[position + 1 :]
    try:
        accepted = verifier.check(infraction_topic(SITE, "cam1"), mutated)
    except Refused:
        return
    # Only a change that leaves the signed content identical (e.g. whitespace) may pass.
    assert accepted.signed == json.loads(good)


def test_hostile_traffic_is_quarantined_and_the_worker_keeps_serving(tmp_path, db_url):
    migrate(db_url)
    with LocalBroker(tmp_path / "broker") as broker:
        make_camera(tmp_path, "cam1", broker.url)
        make_camera(tmp_path, "cam2", broker.url)
        keys = tmp_path / "keys"
        worker = start_worker(tmp_path, db_url, broker.url)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="attacker", protocol=mqtt.MQTTv5)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        db = Db(db_url)
        try:
            wait_subscribed(tmp_path)
            original = signed_payload(keys, index=1)
            old = (datetime.now(UTC) - timedelta(days=60)).isoformat()
            big = b"x" * (50 * 1024 * 1024)
            hostile = [
                (infraction_topic(SITE, "cam1"), original),
                (infraction_topic(SITE, "cam1"), original),  # replayed copy: absorbed
                (infraction_topic(SITE, "cam1"), big),
                (evidence_topic(SITE, "cam1", hashlib.sha256(big).hexdigest()), big),
                (infraction_topic(SITE, "cam1"), signed_payload(keys, signer="cam2", index=2)),
                (infraction_topic(SITE, "cam1"), signed_payload(keys, index=3, started_at=old, ended_at=old)),
                (infraction_topic(SITE, "cam1"), signed_payload(keys, camera="cam2", index=4)),
                (infraction_topic(SITE, "cam1"), b"\x00\x01garbage"),
                (
                    status_topic(SITE, "cam1"),
                    encode(StatusMessage(site=SITE, camera_id="cam1", state="online").to_payload()),
                ),
                ("curbwatch/v1/site1/cam1/../../x", b"{}"),
            ]
            for topic, payload in hostile:
                client.publish(topic, payload, qos=1).wait_for_publish(30)
            assert db.wait_for(lambda d: len(d.quarantined()) >= 8, 60)
            assert worker.poll() is None, "the worker died"
            client.publish(infraction_topic(SITE, "cam1"), signed_payload(keys, index=5), qos=1).wait_for_publish(5)
            assert db.wait_for(lambda d: d.count() == 2, 30), "the worker stopped serving"
        finally:
            client.disconnect()
            client.loop_stop()
            db.close()
            assert stop(worker) == 0
    result = run_cli("central", "list", "--db", db_url, "--quarantine", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all({"reason", "topic", "received_at"} <= set(line) for line in lines)
    reasons = " | ".join(line["reason"] for line in lines)
    for expected in (
        "oversize:",
        "oversize evidence",
        "bad signature",
        "stale",
        "on the topic of",
        "malformed",
        "unsigned",
        "bad topic",
    ):
        assert expected in reasons, reasons
    assert len(lines) == 8
    stored = run_cli("central", "list", "--db", db_url, "--json")
    assert len(stored.stdout.splitlines()) == 2


@pytest.fixture(scope="module")
def live_worker(tmp_path_factory):
    """One real broker and worker process for the fuzz examples below (SQLite)."""
    tmp = tmp_path_factory.mktemp("live")
    db_url = f"sqlite:///{tmp / 'central.db'}"
    migrate(db_url)
    with LocalBroker(tmp / "broker") as broker:
        make_camera(tmp, "cam1", broker.url)
        worker = start_worker(tmp, db_url, broker.url)
        wait_subscribed(tmp)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fuzzer", protocol=mqtt.MQTTv5)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        db = Db(db_url)
        yield tmp, client, db, worker
        client.disconnect()
        client.loop_stop()
        db.close()
        assert stop(worker) == 0


@settings(max_examples=40, deadline=None)
@given(
    kind=st.sampled_from(["infraction", "status", "evidence/" + "b" * 64]),
    payload=st.one_of(
        st.binary(max_size=3000),
        st.dictionaries(st.text(max_size=12), st.text(max_size=12), max_size=8).map(lambda d: json.dumps(d).encode()),
    ),
)
def test_fuzzed_payloads_through_the_broker_are_quarantined(live_worker, kind, payload):
    _tmp, client, db, worker = live_worker
    before = len(db.quarantined())
    client.publish(f"curbwatch/v1/{SITE}/cam1/{kind}", payload, qos=1).wait_for_publish(10)
    assert db.wait_for(lambda d: len(d.quarantined()) == before + 1, 20)
    assert worker.poll() is None


def test_worker_still_stores_after_the_fuzzing(live_worker):
    tmp, client, db, worker = live_worker
    client.publish(infraction_topic(SITE, "cam1"), signed_payload(tmp / "keys", index=7), qos=1).wait_for_publish(10)
    assert db.wait_for(lambda d: d.count() == 1, 20)
    assert worker.poll() is None
