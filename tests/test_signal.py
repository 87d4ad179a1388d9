"""Pedestrian signal: fixed-time plan, lamp colour read from frames, and phases over a real MQTT broker."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest

from edge.signal import (
    FixedTimeSignal,
    LampColourSignal,
    MqttPhaseSignal,
    build_signal,
    parse_phase,
    subscribe_signal,
)
from models.config.camera import parse_camera_config
from models.config.signal import FixedSignal, LampSignal, MqttSignal
from models.errors import ConfigError

MINUTE = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)


def camera(signal: dict) -> dict:
    return {
        "camera": {"id": "cam-1", "site": "s1"},
        "source": {"uri": "clip.mp4"},
        "zones": [{"name": "road", "kind": "roadway", "polygon": [[0, 0.4], [1, 0.4], [1, 0.6]]}],
        "signal": signal,
    }


def test_fixed_plan_follows_the_wall_clock_or_the_video() -> None:
    plan = FixedTimeSignal(FixedSignal(mode="fixed", cycle_s=60, walk_s=20, offset_s=10))
    phases = [plan.phase(0.0, MINUTE + timedelta(seconds=s), None) for s in (0, 9.9, 10, 29.9, 30, 59, 70, 130)]
    assert phases == ["dont_walk", "dont_walk", "walk", "walk", "dont_walk", "dont_walk", "walk", "walk"]
    video = FixedTimeSignal(FixedSignal(mode="fixed", cycle_s=60, walk_s=20, clock="source"))
    assert [video.phase(t, MINUTE + timedelta(seconds=35), None) for t in (5, 25, 65)] == ["walk", "dont_walk", "walk"]


def test_config_chooses_the_signal_and_rejects_bad_plans_clearly() -> None:
    assert build_signal(parse_camera_config(camera({"mode": "none"}))) is None
    assert isinstance(
        build_signal(parse_camera_config(camera({"mode": "mqtt", "topic": "city/x/ped"}))), MqttPhaseSignal
    )
    lamp = {"mode": "lamp", "roi": [[0.1, 0.1], [0.2, 0.1], [0.2, 0.2], [0.1, 0.2]]}
    assert isinstance(build_signal(parse_camera_config(camera(lamp))), LampColourSignal)
    with pytest.raises(ConfigError, match=r"walk_s .* must be shorter than cycle_s"):
        parse_camera_config(camera({"mode": "fixed", "cycle_s": 30, "walk_s": 40}))
    with pytest.raises(ConfigError, match="signal"):
        parse_camera_config(camera({"mode": "semaphore"}))
    with pytest.raises(ConfigError, match="topic"):
        parse_camera_config(camera({"mode": "mqtt", "topic": "city/+/ped"}))


def lamp_frame(colour: tuple[int, int, int] | None) -> np.ndarray:
    frame = np.full((240, 320, 3), 60, np.uint8)
    cv2.rectangle(frame, (20, 20), (60, 90), (30, 30, 30), -1)  # the lamp housing
    if colour is not None:
        cv2.circle(frame, (40, 55), 12, colour, -1)
    cv2.circle(frame, (250, 200), 15, (0, 200, 0), -1)  # a green car elsewhere must not count
    return frame


def test_lamp_colour_reads_walk_and_dont_walk_and_holds_through_a_flash() -> None:
    lamp = LampColourSignal(
        LampSignal(
            mode="lamp", roi=[(20 / 320, 20 / 240), (60 / 320, 20 / 240), (60 / 320, 90 / 240), (20 / 320, 90 / 240)]
        )
    )
    red, green = (20, 20, 230), (80, 230, 60)
    assert lamp.phase(0.0, MINUTE, lamp_frame(red)) == "dont_walk"
    assert lamp.phase(1.0, MINUTE, lamp_frame(green)) == "walk"
    assert lamp.phase(1.5, MINUTE, lamp_frame(None)) == "walk"  # dark between flashes: held
    assert lamp.phase(4.0, MINUTE, lamp_frame(None)) is None  # dark for longer than hold_s
    assert lamp.phase(5.0, MINUTE, None) is None


def test_mqtt_phase_goes_stale_and_ignores_nonsense() -> None:
    signal = MqttPhaseSignal(MqttSignal(mode="mqtt", topic="t", stale_s=10))
    assert signal.phase(0, MINUTE, None) is None
    signal.on_phase("dont_walk", at=MINUTE.timestamp())
    assert signal.phase(0, MINUTE + timedelta(seconds=5), None) == "dont_walk"
    assert signal.phase(0, MINUTE + timedelta(seconds=11), None) is None
    assert [parse_phase(p) for p in (b"walk", b' {"phase": "dont_walk"} ', b"DONT-WALK", b"green", b"{bad")] == [
        "walk",
        "dont_walk",
        "dont_walk",
        None,
        None,
    ]


def test_mqtt_signal_follows_a_controller_over_a_real_broker() -> None:
    topic = f"test/signal/{uuid.uuid4().hex}"
    signal = MqttPhaseSignal(MqttSignal(mode="mqtt", topic=topic))
    subscribed = threading.Event()
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    listener.on_subscribe = lambda *args: subscribed.set()
    listener.connect("127.0.0.1", 1883)
    listener.loop_start()
    controller = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    controller.connect("127.0.0.1", 1883)
    controller.loop_start()
    try:
        subscribe_signal(listener, signal)
        assert subscribed.wait(5), "the broker did not confirm the subscription"
        for phase in ("walk", "dont_walk"):
            controller.publish(topic, phase, qos=1).wait_for_publish(5)
            deadline = time.monotonic() + 5
            while signal.phase(0, datetime.now(UTC), None) != phase and time.monotonic() < deadline:
                time.sleep(0.02)
            assert signal.phase(0, datetime.now(UTC), None) == phase
    finally:
        for client in (listener, controller):
            client.loop_stop()
            client.disconnect()
