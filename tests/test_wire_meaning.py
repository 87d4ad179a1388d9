"""Issue 28 §1-2: a signed message means what its schema says. Correctly signed messages with hostile values (an
int for a time, a bool for a number, a 56-year event, reversed ranges, NaN, huge numbers, points off the frame,
times from the future) are refused, each with its own reason; what the edge builds from Python objects is not."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from central.verify import Accepted, Refused, Verifier
from edge.loadgen import synthetic_message
from edge.publisher import encode
from models.event_limits import MAX_EVENT_S, MAX_FOLLOW_S
from models.item_status import ItemStatusMessage
from models.receipt import ReceiptMessage
from models.signing import generate_keypair, load_private_key, load_public_keys, sign
from models.status import Heartbeat, StatusMessage
from models.topics import infraction_topic, item_topic, status_topic
from models.wire import utc_iso

SITE, CAMERA = "site1", "cam1"
NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    generate_keypair(CAMERA, folder)
    return folder


def signed(keys: Path, message: dict[str, Any]) -> bytes:
    return encode(sign(message, load_private_key(keys / f"{CAMERA}.key")))


def infraction(**changes: Any) -> dict[str, Any]:
    return synthetic_message(SITE, CAMERA, 28, 0, []).to_payload() | changes


def item_status(**changes: Any) -> dict[str, Any]:
    message = ItemStatusMessage(
        status_id=uuid.uuid4(), event_id=uuid.uuid4(), site=SITE, camera_id=CAMERA, state="still_there",
        at=NOW, since_event_s=600.0, item_box=(0.1, 0.2, 0.3, 0.4),
    )  # fmt: skip
    return message.to_payload() | changes


def nested(payload: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of `payload` with one value deep inside replaced."""
    import copy

    out = copy.deepcopy(payload)
    target: Any = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


NOW_ISO = utc_iso(NOW)
HOSTILE_INFRACTIONS: dict[str, tuple[dict[str, Any], str]] = {
    "int for a time": (infraction(started_at=0), "started_at: must be an ISO 8601 time with a zone"),
    "number string for a time": (infraction(ended_at="1700000000"), "ended_at: must be an ISO 8601 time"),
    "time without a zone": (infraction(started_at="2024-05-01T12:00:00"), "started_at: must be an ISO 8601 time"),
    "1970 start": (
        infraction(started_at="1970-01-01T00:00:00Z", ended_at=NOW_ISO),
        f"the event lasts .* s, longer than any rule reports \\({MAX_EVENT_S:.0f} s\\)",
    ),
    "reversed times": (
        infraction(started_at=NOW_ISO, ended_at=utc_iso(NOW - timedelta(seconds=5))),
        "ended_at is before started_at",
    ),
    "reversed frames": (infraction(frame_start=90, frame_end=10), "frame_end is before frame_start"),
    "negative frame": (infraction(frame_start=-1), "frame_start: must be greater than or equal to 0"),
    "fractional frame": (infraction(frame_end=90.5), "frame_end: must be a whole JSON number"),
    "huge frame": (infraction(frame_end=10**20), "frame_end: must be less than or equal to 9007199254740992"),
    "bool for a number": (infraction(confidence=True), "confidence: must be a JSON number"),
    "string for a number": (infraction(confidence="0.9"), "confidence: must be a JSON number"),
    "confidence above 1": (infraction(confidence=1.5), "confidence: must be less than or equal to 1"),
    "NaN": (infraction(confidence=float("nan")), "confidence: must be a finite number"),
    "infinity in a trace": (
        nested(infraction(), ("rule", "measurements", "in_road_s"), float("inf")),
        "rule.measurements.in_road_s: must be a finite JSON number",
    ),
    "huge number in a trace": (
        nested(infraction(), ("rule", "thresholds", "min_s"), 1e300),
        "rule.thresholds.min_s: must be a finite JSON number below 1e15",
    ),
    "ratio above 1": (
        nested(infraction(), ("rule", "measurements", "rider_share"), 3),
        "measurements.rider_share is 3, a ratio must lie in \\[0, 1\\]",
    ),
    "negative seconds": (
        nested(infraction(), ("rule", "measurements", "in_road_s"), -2.0),
        "measurements.in_road_s is -2.0, a time or a speed is never negative",
    ),
    "point off the frame": (
        nested(infraction(), ("track", "trajectory", 1, "x"), 1.7),
        "track.trajectory\\[1\\].x: must be less than or equal to 1",
    ),
    "bool for a track id": (nested(infraction(), ("track", "id"), True), "track.id: must be a whole JSON number"),
    "int for a flag": (infraction(redacted=1), "redacted: must be a valid boolean"),
    "braced event id": (infraction(event_id="{" + str(uuid.uuid4()) + "}"), "event_id: must be a UUID"),
    "upper-case event id": (infraction(event_id=str(uuid.uuid4()).upper()), "event_id: must be a UUID"),
    # NOW is taken when the suite is collected, which may be half an hour before these run: hours ahead, then.
    "from the future": (
        infraction(started_at=utc_iso(NOW + timedelta(hours=6)), ended_at=utc_iso(NOW + timedelta(hours=6))),
        "from the future: the event ends",
    ),
    "ends in the future": (
        infraction(ended_at=utc_iso(NOW + timedelta(hours=6))),
        "from the future: the event ends",
    ),
    "older than the outbox can deliver": (
        infraction(started_at="2001-01-01T00:00:00Z", ended_at="2001-01-01T00:00:03Z"),
        "stale: the event ended 2001-01-01",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_INFRACTIONS)
def test_a_correctly_signed_infraction_with_a_hostile_value_is_refused(keys: Path, case: str) -> None:
    message, reason = HOSTILE_INFRACTIONS[case]
    verifier = Verifier(load_public_keys(keys))
    with pytest.raises(Refused, match=reason):
        verifier.check(infraction_topic(SITE, CAMERA), signed(keys, message))


HOSTILE_ITEMS: dict[str, tuple[dict[str, Any], str]] = {
    "int for a time": (item_status(at=1_700_000_000), "at: must be an ISO 8601 time"),
    "bool for seconds": (item_status(since_event_s=True), "since_event_s: must be a JSON number"),
    "followed too long": (
        item_status(since_event_s=MAX_FOLLOW_S + 1),
        "since_event_s is .* s, later than an item is followed",
    ),
    "box off the frame": (item_status(item_box=[0.1, 0.2, 0.3, 4]), "item_box\\[3\\]: must be less than or equal to 1"),
    "from the future": (item_status(at=utc_iso(NOW + timedelta(days=1))), "from the future: the item status"),
}


@pytest.mark.parametrize("case", HOSTILE_ITEMS)
def test_a_correctly_signed_item_status_with_a_hostile_value_is_refused(keys: Path, case: str) -> None:
    message, reason = HOSTILE_ITEMS[case]
    with pytest.raises(Refused, match=reason):
        Verifier(load_public_keys(keys)).check(item_topic(SITE, CAMERA), signed(keys, message))


def test_status_and_receipt_hold_their_types(keys: Path) -> None:
    good = StatusMessage(
        site=SITE, camera_id=CAMERA, state="online", at=NOW,
        heartbeat=Heartbeat(uptime_s=5, fps=np.float32(12.5), queue_depth=np.int64(3), model="m"),
    ).to_payload()  # fmt: skip
    verifier = Verifier(load_public_keys(keys))
    assert isinstance(verifier.check(status_topic(SITE, CAMERA), signed(keys, good)), Accepted)
    for path, value, reason in (
        (("heartbeat", "fps"), True, "heartbeat.fps: must be a JSON number"),
        (("heartbeat", "queue_depth"), 2.5, "heartbeat.queue_depth: must be a whole JSON number"),
        (("at",), 0, "at: must be an ISO 8601 time"),
    ):
        with pytest.raises(Refused, match=reason):
            verifier.check(status_topic(SITE, CAMERA), signed(keys, nested(good, path, value)))
    receipt = ReceiptMessage(site=SITE, camera_id=CAMERA, at=NOW).to_payload()
    assert ReceiptMessage.model_validate(receipt).at == NOW
    with pytest.raises(ValidationError, match="must be an ISO 8601 time"):
        ReceiptMessage.model_validate(receipt | {"at": 1_700_000_000})


def test_what_the_edge_builds_is_accepted(keys: Path) -> None:
    """The edge hands the models datetimes, UUIDs and numpy numbers; those are Python values, not coercions."""
    verifier = Verifier(load_public_keys(keys))
    assert isinstance(verifier.check(infraction_topic(SITE, CAMERA), signed(keys, infraction())), Accepted)
    assert isinstance(verifier.check(item_topic(SITE, CAMERA), signed(keys, item_status())), Accepted)
    message = synthetic_message(SITE, CAMERA, 28, 1, [])
    message.track.id = np.int64(4)  # type: ignore[assignment]
    message.confidence = np.float64(0.7)
    assert message.to_payload()["track"]["id"] == 4


def test_a_signature_spelt_another_way_is_refused(keys: Path) -> None:
    """The fuzz found it: base64's last character before `==` carries 4 unused bits, so 16 spellings decode to one
    signature; a byte flipped there was stored as a message central never saw."""
    message = json.loads(signed(keys, infraction()))
    signature = message["signature"]
    assert signature.endswith("==") and len(signature) == 88
    last = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".index(signature[85])
    other = signature[:85] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[last ^ 1] + "=="
    assert base64.b64decode(other) == base64.b64decode(signature)
    with pytest.raises(Refused, match="bad signature"):
        Verifier(load_public_keys(keys)).check(infraction_topic(SITE, CAMERA), encode(message | {"signature": other}))
