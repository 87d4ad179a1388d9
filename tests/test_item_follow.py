"""Following a littering event's item on hand-written static-item sequences: no video, no detector."""

from __future__ import annotations

import uuid

from edge.item_follow import ItemFollower
from edge.samples import StaticItem

EVENT = uuid.UUID("12345678-1234-5678-1234-567812345678")
BOX = (0.4, 0.6, 0.45, 0.65)


def item(t_seen: float | None = None, item_id: int = 7) -> StaticItem:
    return StaticItem(item_id=item_id, box=BOX, first_seen_t=10.0, area=0.002, last_seen_t=t_seen)


def follower() -> ItemFollower:
    followed = ItemFollower(report_s=60.0, grace_s=5.0, max_s=600.0)
    followed.follow(EVENT, 7, BOX, event_t=10.0, seen_t=20.0)
    return followed


def test_still_there_at_each_interval_then_removed_when_the_detector_lets_it_go() -> None:
    followed = follower()
    reports = [(t, followed.update(t, [item(t)])) for t in range(21, 200)]
    still = [(t, obs) for t, found in reports for obs in found]
    assert [t for t, _ in still] == [80, 140]
    assert {obs.state for _, obs in still} == {"still_there"}
    assert still[0][1].since_event_s == 70.0 and still[0][1].event_id == EVENT and still[0][1].box == BOX
    # Gone from the detector's list (it held the item its grace time first): removed when last seen there.
    [removed] = followed.update(205.0, [])
    assert (removed.state, removed.t, removed.since_event_s) == ("removed", 199.0, 189.0)
    assert followed.item_ids == frozenset() and followed.update(206.0, []) == []


def test_no_still_there_while_someone_hides_it() -> None:
    followed = follower()
    # The detector keeps the item (hidden), but its place was last seen at 30 s: nothing said at 80 s.
    assert followed.update(80.0, [item(30.0)]) == []
    [late] = followed.update(90.0, [item(89.0)])
    assert (late.state, late.t) == ("still_there", 89.0)


def test_other_items_come_and_go_without_a_word() -> None:
    followed = follower()
    assert followed.update(30.0, [item(30.0), item(30.0, item_id=8)]) == []
    assert followed.update(31.0, [item(31.0)]) == []


def test_unknown_after_the_longest_follow_and_after_a_reset() -> None:
    followed = follower()
    [*_, last] = [obs for t in range(21, 611) for obs in followed.update(float(t), [item(float(t))])]
    assert (last.state, last.t, last.since_event_s) == ("unknown", 610.0, 600.0)
    assert followed.item_ids == frozenset()

    followed = follower()
    [reset] = followed.reset(50.0)
    assert (reset.state, reset.t) == ("unknown", 50.0)
    assert followed.update(51.0, [item(51.0)]) == []


def test_end_of_stream_says_how_it_was_last_seen() -> None:
    followed = follower()
    followed.update(40.0, [item(None)])
    [last] = followed.finish()
    assert (last.state, last.t, last.since_event_s) == ("still_there", 40.0, 30.0)
    assert followed.finish() == []
