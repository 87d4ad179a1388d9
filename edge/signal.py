"""The pedestrian signal's phase at a moment: from a fixed-time plan, the lamp's colour in the image, or the
last phase the signal controller published over MQTT. `None` means unknown, and an unknown phase never
makes a crosswalk illegal."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Final, Protocol

import cv2
import numpy as np

from models.config.camera import CameraConfig
from models.config.signal import FixedSignal, HueRange, LampSignal, MqttSignal
from models.infraction import SignalPhase

log = logging.getLogger(__name__)

WALK: Final = "walk"
DONT_WALK: Final = "dont_walk"
PHASES: tuple[SignalPhase, ...] = (WALK, DONT_WALK)


def as_phase(text: str | None) -> SignalPhase | None:
    """`text` when it names a phase, else None (unknown)."""
    return next((phase for phase in PHASES if phase == text), None)


class PedestrianSignal(Protocol):
    def phase(self, t: float, wall: datetime, frame_bgr: np.ndarray | None) -> SignalPhase | None:
        """'walk' | 'dont_walk' | None at source time `t` / wall time `wall`, optionally reading `frame_bgr`."""
        ...


class FixedTimeSignal:
    """Walk for `walk_s` seconds from `offset_s` into every cycle of `cycle_s`."""

    def __init__(self, config: FixedSignal) -> None:
        self.config = config

    def phase(self, t: float, wall: datetime, frame_bgr: np.ndarray | None = None) -> SignalPhase | None:
        clock = wall.timestamp() if self.config.clock == "wall" else t
        into_cycle = (clock - self.config.offset_s) % self.config.cycle_s
        return WALK if into_cycle < self.config.walk_s else DONT_WALK


def _hue_mask(hue: np.ndarray, hues: HueRange) -> np.ndarray:
    if hues.low <= hues.high:
        return (hue >= hues.low) & (hue <= hues.high)
    return (hue >= hues.low) | (hue <= hues.high)


class LampColourSignal:
    """Counts lit, saturated pixels of each lamp colour inside the region; the larger share wins when it is
    at least `min_fraction`. A dark lamp (between flashes) keeps the last phase for `hold_s`."""

    def __init__(self, config: LampSignal) -> None:
        self.config = config
        self._mask_for: tuple[int, int] | None = None
        self._mask: np.ndarray | None = None
        self._bounds = (0, 0, 0, 0)
        self._last: tuple[SignalPhase, float] | None = None

    def _roi(self, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        if self._mask_for != shape or self._mask is None:
            h, w = shape
            pts = np.array([[x * (w - 1), y * (h - 1)] for x, y in self.config.roi], dtype=np.float32)
            x, y, bw, bh = cv2.boundingRect(pts)
            bw, bh = max(bw, 1), max(bh, 1)
            mask = np.zeros((bh, bw), np.uint8)
            cv2.fillPoly(mask, [np.round(pts - [x, y]).astype(np.int32)], 255)
            self._mask_for, self._mask, self._bounds = shape, mask > 0, (x, y, bw, bh)
        return self._mask, self._bounds

    def read(self, frame_bgr: np.ndarray) -> SignalPhase | None:
        """The phase the lamp shows in this frame alone, or None when it reads dark."""
        mask, (x, y, w, h) = self._roi(frame_bgr.shape[:2])
        hsv = cv2.cvtColor(frame_bgr[y : y + h, x : x + w], cv2.COLOR_BGR2HSV)
        hue, sat, val = hsv[..., 0], hsv[..., 1], hsv[..., 2]
        mask = mask[: hsv.shape[0], : hsv.shape[1]]
        lit = mask & (sat >= self.config.min_saturation) & (val >= self.config.min_value)
        total = max(int(mask.sum()), 1)
        walk = int((lit & _hue_mask(hue, self.config.walk_hue)).sum()) / total
        dont = int((lit & _hue_mask(hue, self.config.dont_walk_hue)).sum()) / total
        best: SignalPhase
        best, share = (WALK, walk) if walk > dont else (DONT_WALK, dont)
        return best if share >= self.config.min_fraction else None

    def phase(self, t: float, wall: datetime, frame_bgr: np.ndarray | None) -> SignalPhase | None:
        seen = self.read(frame_bgr) if frame_bgr is not None else None
        if seen is not None:
            self._last = (seen, t)
            return seen
        if self._last is not None and 0.0 <= t - self._last[1] <= self.config.hold_s:
            return self._last[0]
        return None


def parse_phase(payload: bytes | str) -> SignalPhase | None:
    """'walk' / 'dont_walk' as plain text or JSON {"phase": ...}; anything else is None."""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text).get("phase")
        except (ValueError, AttributeError):
            return None
        text = value if isinstance(value, str) else ""
    text = text.strip().lower().replace("-", "_").replace("'", "")
    return as_phase(text)


class MqttPhaseSignal:
    """Holds the last phase the signal controller published; a phase older than `stale_s` is unknown.

    Fed through `on_phase` by whatever receives the messages (see `subscribe_signal`), so it can be used and
    tested without a broker. `clock` gives the arrival time when `on_phase` is called without one."""

    def __init__(self, config: MqttSignal, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self._clock = clock
        self._lock = threading.Lock()
        self._last: tuple[SignalPhase, float] | None = None

    def on_phase(self, phase: str | None, at: float | None = None) -> None:
        """Record a phase published at `at` (Unix seconds); an unknown phase clears the last one."""
        with self._lock:
            known = as_phase(phase)
            self._last = (known, self._clock() if at is None else at) if known is not None else None

    def phase(self, t: float, wall: datetime, frame_bgr: np.ndarray | None = None) -> SignalPhase | None:
        with self._lock:
            last = self._last
        if last is None:
            return None
        age = wall.timestamp() - last[1]
        return last[0] if -self.config.stale_s <= age <= self.config.stale_s else None


def subscribe_signal(client: object, signal: MqttPhaseSignal) -> None:
    """Route the signal topic of a connected paho-mqtt 2.x client into `signal` (call again after reconnects)."""

    def _on_message(_client: object, _userdata: object, message: object) -> None:
        phase = parse_phase(message.payload)  # type: ignore[attr-defined]
        if phase is None:
            log.warning("signal topic %s: ignoring payload %r", signal.config.topic, message.payload[:64])  # type: ignore[attr-defined]
            return
        signal.on_phase(phase)

    client.message_callback_add(signal.config.topic, _on_message)  # type: ignore[attr-defined]
    client.subscribe(signal.config.topic, qos=1)  # type: ignore[attr-defined]


def build_signal(config: CameraConfig) -> PedestrianSignal | None:
    """The camera's configured signal, or None for mode 'none'."""
    signal = config.signal
    if isinstance(signal, FixedSignal):
        return FixedTimeSignal(signal)
    if isinstance(signal, LampSignal):
        return LampColourSignal(signal)
    if isinstance(signal, MqttSignal):
        return MqttPhaseSignal(signal)
    return None
