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
