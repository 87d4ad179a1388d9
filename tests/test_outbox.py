import logging

from edge.outbox import Outbox


def test_events_survive_a_reopen_in_order_and_leave_only_when_acknowledged(tmp_path):
    outbox = Outbox(tmp_path / "o.db")
    assert outbox.enqueue("e1", [("t/evidence/a", b"jpeg", False), ("t/infraction", b"{1}", False)])
    assert outbox.enqueue("e2", [("t/infraction", b"{2}", False)])
    outbox.close()

    reopened = Outbox(tmp_path / "o.db")
    rows = reopened.after(0, 10)
    assert [row.payload for row in rows] == [b"jpeg", b"{1}", b"{2}"]
    assert reopened.depth() == 3
    reopened.delete([rows[0].seq, rows[1].seq])
    assert [row.payload for row in reopened.after(0, 10)] == [b"{2}"]
    reopened.reject(rows[2].seq, "Not authorized")
    assert reopened.depth() == 0 and reopened.rejected() == [("t/infraction", "Not authorized")]


def test_refuse_new_keeps_the_queue_and_warns(tmp_path, caplog):
    outbox = Outbox(tmp_path / "o.db", max_messages=10, warn_at=0.5)
    with caplog.at_level(logging.WARNING):
        for index in range(10):
            assert outbox.enqueue(f"e{index}", [("t", str(index).encode(), False)])
        assert not outbox.enqueue("late", [("t", b"late", False)])
    assert [row.payload for row in outbox.after(0, 20)] == [str(i).encode() for i in range(10)]
    assert any("50% full" in r.message for r in caplog.records)
    assert any("full" in r.message and "late dropped" in r.message for r in caplog.records)


def test_drop_oldest_drops_whole_events(tmp_path, caplog):
    outbox = Outbox(tmp_path / "o.db", max_messages=10, when_full="drop_oldest")
    for index in range(5):
        assert outbox.enqueue(f"e{index}", [("ev", b"x", False), ("inf", str(index).encode(), False)])
    with caplog.at_level(logging.WARNING):
        assert outbox.enqueue("new", [("ev", b"y", False), ("inf", b"new", False)])
    payloads = [row.payload for row in outbox.after(0, 20)]
    assert payloads[:2] == [b"x", b"1"] and payloads[-1] == b"new" and len(payloads) == 10
    assert any("dropped the oldest event e0" in r.message for r in caplog.records)


def test_sink_queues_evidence_first_and_a_message_central_can_verify(tmp_path):
    import hashlib
    import json

    from central.verify import Verifier
    from edge.loadgen import synthetic_message
    from edge.outbox_sink import OutboxSink
    from models.config.camera import load_camera_config
    from models.infraction import EvidenceRef
    from models.signing import load_public_keys
    from tests.transport_kit import make_camera

    config = load_camera_config(make_camera(tmp_path, "cam1", "mqtt://127.0.0.1:1"))
    jpeg = tmp_path / "key.jpg"
    jpeg.write_bytes(b"\xff\xd8 not really a jpeg \xff\xd9")
    ref = EvidenceRef(sha256=hashlib.sha256(jpeg.read_bytes()).hexdigest(), media_type="image/jpeg", role="keyframe")
    message = synthetic_message("site1", "cam1", 0, 0, [ref])
    sink = OutboxSink(config, publish=False)
    sink.emit(message, [(ref, jpeg)])
    rows = sink.outbox.after(0, 10)
    sink.close()
    assert [row.topic.rsplit("/", 2)[-2:] for row in rows] == [["evidence", ref.sha256], ["cam1", "infraction"]]
    verifier = Verifier(load_public_keys(tmp_path / "keys"))
    assert verifier.check(rows[0].topic, rows[0].payload).topic.sha256 == ref.sha256
    accepted = verifier.check(rows[1].topic, rows[1].payload)
    assert accepted.message.event_id == message.event_id
    assert json.loads(rows[1].payload)["signature"]
