"""Signed messages an outside verifier can check: the bytes `models.signing.canonical_json` signs are the bytes an
RFC 8785 (JavaScript-style) canonicaliser writes for the same message, so a verifier in another language rebuilds
them. Checked on a message from a hit with awkward floats and on every message of a real replay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge.detector import Detector
from edge.messages import build_message
from edge.replay import replay_file
from edge.rules.base import RuleHit
from edge.sink import MemorySink
from models.config.camera import load_camera_config
from models.infraction import InfractionMessage, ModelRef
from models.portable import DECIMALS
from models.signing import canonical_json, sign
from models.status import Heartbeat, StatusMessage
from tests.conftest import ROOT, shared_file

KEY = Ed25519PrivateKey.generate()
CONFIG = ROOT / "examples" / "jay_intersection_crosswalk.yaml"
MODEL = ModelRef(name="yolov8n_int8.tflite", sha256="a" * 64)
AWKWARD = RuleHit(
    type="littering",
    track_id=3,
    zone="pavement",
    frame_start=10,
    frame_end=90,
    t_start=0.00001,
    t_end=12.000000001,
    confidence=1.0,
    trajectory=((0.0, 0.1 + 0.2, 1e-05), (1.23456789, -0.0, 0.99999999), (2.5, 1.0000001, 0.5)),
    thresholds={"grace_s": 5.0, "owner_distance": 0.15, "unit": "frame_widths"},
    measurements={"item_area": 4e-05, "static_s": 1e-7, "owner_away_s": 123456.789012345, "owner_visible": True},
    rule_version="1.0",
    item_box=(0.5, 0.6000000001, 0.55, 0.7),
)


def floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for item in value.values() for f in floats(item)]
    if isinstance(value, list):
        return [f for item in value for f in floats(item)]
    return []


def assert_portable(message: InfractionMessage | StatusMessage) -> None:
    signed = sign(message.to_payload(), KEY)
    assert canonical_json(signed) == rfc8785.dumps({k: v for k, v in signed.items() if k != "signature"})
    for value in floats(signed):
        assert not value.is_integer() and 1e-4 <= abs(value) < 1e15 and round(value, DECIMALS) == value


def test_a_hit_with_awkward_floats_signs_bytes_rfc8785_agrees_with() -> None:
    config = load_camera_config(CONFIG)
    zone = config.zones[0]
    message = build_message(
        AWKWARD, config, origin=datetime(2026, 1, 2, tzinfo=UTC), model=MODEL, evidence=[], redacted=True,
        zone=zone, clip="clip.mp4",
    )  # fmt: skip
    assert_portable(message)


def test_a_heartbeat_signs_bytes_rfc8785_agrees_with() -> None:
    beat = Heartbeat(uptime_s=12.0, fps=0.0, queue_depth=0, model="m", required_fps=2.5, detect_fps=5.0)
    assert_portable(StatusMessage(site="s", camera_id="c", state="online", at=datetime.now(UTC), heartbeat=beat))


@pytest.mark.slow
def test_every_message_of_a_real_replay_signs_bytes_rfc8785_agrees_with(model_path) -> None:
    config = load_camera_config(CONFIG)
    sink = MemorySink()
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    replay_file(video, config, Detector(config.detector, None), sinks=[sink], progress=False)
    assert sink.messages, "the clip's mid-block crossing raises at least one event"
    for message in sink.messages:
        assert_portable(message)
