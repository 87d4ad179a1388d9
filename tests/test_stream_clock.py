"""A live frame's time follows the stream's timestamps, held near the arrival clock and always increasing."""

import itertools

import pytest

from edge.stream_clock import MAX_LAG_S, MAX_LEAD_S, StreamClock


def test_a_burst_at_start_keeps_the_camera_spacing():
    clock = StreamClock(0.0)
    # 30 frames at 10 fps, all read within 30 ms (probed before the reader started), then on time.
    times = [clock.time_of(i / 10, 3.0 + i * 0.001) for i in range(30)]
    times += [clock.time_of(i / 10, 3.0 + (i - 29) / 10) for i in range(30, 40)]
    assert times[0] == 3.0
    assert all(b - a == pytest.approx(0.1) for a, b in itertools.pairwise(times))


def test_a_clock_that_jumps_or_goes_back_is_replaced_by_the_arrivals():
    clock = StreamClock(0.0)
    assert clock.time_of(100.0, 1.0) == 1.0
    assert clock.time_of(100.1, 1.1) == pytest.approx(1.1)
    assert clock.time_of(5000.0, 1.2) == pytest.approx(1.2), "a leap of an hour is an arrival step"
    assert clock.time_of(3.0, 1.3) == pytest.approx(1.3), "backwards likewise"
    assert clock.time_of(3.0, 1.3) > 1.3, "a repeated time still moves on"


def test_a_fast_or_slow_camera_clock_stays_near_the_arrivals():
    fast, slow = StreamClock(0.0), StreamClock(0.0)
    for i in range(1, 100_000):
        arrival = i * 0.1
        t_fast = fast.time_of(arrival * 1.01, arrival)
        t_slow = slow.time_of(arrival * 0.99, arrival)
    assert arrival < t_fast <= arrival + MAX_LEAD_S
    assert arrival - MAX_LAG_S <= t_slow < arrival


def test_a_new_connection_starts_after_the_last_frame_of_the_one_before():
    clock = StreamClock(not_before=50.0)
    assert clock.time_of(0.0, 49.0) > 50.0
