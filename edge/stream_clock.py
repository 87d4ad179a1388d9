"""The time of a live frame, from the stream's own timestamps where they can be trusted.

A frame's arrival is a poor clock for a stream: FFmpeg probes a few seconds of it before the first frame is read,
and a camera box loading its model lets more wait, so the first seconds arrive in a burst and, stamped on
arrival, would squeeze seconds of walking into milliseconds. The stream's presentation times keep the spacing the
camera gave its frames. They are followed step by step, never trusted blindly: a step that goes backwards, or
leaps further than the arrivals did (a camera that restarted its clock, a broken timestamp), is replaced by the
arrival step, and the result is held within a few seconds of the arrival clock, so a camera whose clock runs
fast or slow cannot move events in time over days. The times only ever increase, across reconnects too."""

from __future__ import annotations

MAX_LEAD_S = 10.0
"""How far ahead of its arrival a frame's time may run: the burst of a start (probing, model loading)."""
MAX_LAG_S = 2.0
"""How far behind its arrival: frames held up in the network, delivered together, keep their spacing."""
MAX_LEAP_S = 2.0
"""A stream step longer than the arrival step by more than this is a jump in the camera's clock."""
MIN_STEP_S = 1e-3


class StreamClock:
    def __init__(self, not_before: float) -> None:
        """`not_before`: the time of the last frame of the previous connection (a frame's time never repeats)."""
        self.not_before = not_before
        self._last: tuple[float, float, float] | None = None
        """(stream seconds, arrival seconds, time given) of the previous frame."""

    def time_of(self, stream_s: float, arrival_s: float) -> float:
        """The frame's seconds since the source started, given its presentation time in the stream (seconds,
        any origin) and its arrival (seconds since the source started)."""
        if self._last is None:
            t = max(arrival_s, self.not_before + MIN_STEP_S)
        else:
            last_stream, last_arrival, last_t = self._last
            arrived_after = arrival_s - last_arrival
            step = stream_s - last_stream
            if not 0 < step <= arrived_after + MAX_LEAP_S:
                step = arrived_after
            t = last_t + step
            t = min(max(t, arrival_s - MAX_LAG_S), arrival_s + MAX_LEAD_S)
            t = max(t, last_t + MIN_STEP_S)
        self._last = (stream_s, arrival_s, t)
        return t
