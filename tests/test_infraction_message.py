import json
import uuid

import pytest
from pydantic import ValidationError

from models.infraction import MAX_TRAJECTORY_POINTS, InfractionMessage

SHA = "a" * 64


def sample(**changes: object) -> dict:
    payload = {
        "schema": "curbwatch.infraction/1",
        "event_id": str(uuid.uuid4()),
        "type": "jaywalking",
        "site": "main-st",
        "camera_id": "cam-01",
        "started_at": "2026-11-21T10:00:00Z",
        "ended_at": "2026-11-21T10:00:04.5Z",
        "frame_start": 10,
        "frame_end": 55,
        "zone": "roadway north",
        "confidence": 0.82,
        "track": {"id": 7, "trajectory": [{"t": 0.0, "x": 0.1, "y": 0.5}, {"t": 4.5, "x": 0.6, "y": 0.52}]},
        "rule": {
            "name": "jaywalking",
            "version": "1",
            "thresholds": {"min_duration_s": 1.0},
            "measurements": {"duration_s": 4.5},
        },
        "signal_phase": None,
        "model": {"name": "yolov8n_int8.tflite", "sha256": SHA},
        "evidence": [{"sha256": SHA, "media_type": "image/jpeg", "role": "keyframe"}],
        "redacted": True,
        "signature": None,
    }
    payload.update(changes)
    return payload


def error_text(payload: dict) -> str:
    with pytest.raises(ValidationError) as info:
        InfractionMessage.model_validate(payload)
    return str(info.value)


def test_round_trip_keeps_every_field_and_spells_times_in_utc():
    payload = sample(started_at="2026-11-21T11:00:00+01:00", ended_at="2026-11-21T11:00:04.5+01:00")
    message = InfractionMessage.model_validate(payload)
    wire = json.loads(json.dumps(message.to_payload()))
    assert wire["schema"] == "curbwatch.infraction/1"
    assert wire["started_at"] == "2026-11-21T10:00:00Z"
    assert wire["ended_at"] == "2026-11-21T10:00:04.500000Z"
    assert InfractionMessage.model_validate(wire) == message
    assert set(wire) == set(payload)


def test_redacted_is_the_default():
    payload = sample()
    del payload["redacted"]
    assert InfractionMessage.model_validate(payload).redacted is True


def test_unknown_field_is_rejected_by_name():
    assert "face_embedding\n  Extra inputs are not permitted" in error_text(sample(face_embedding=[0.1]))


def test_wrong_type_is_rejected():
    text = error_text(sample(frame_start="ten"))
    assert "frame_start" in text and "must be a whole JSON number" in text


def test_bad_uuid_is_rejected():
    text = error_text(sample(event_id="not-a-uuid"))
    assert "event_id" in text and "UUID" in text


def test_naive_timestamp_is_rejected():
    text = error_text(sample(started_at="2026-11-21T10:00:00"))
    assert "started_at" in text and "must be an ISO 8601 time with a zone" in text


def test_oversize_trajectory_is_rejected():
    points = [{"t": float(i), "x": 0.5, "y": 0.5} for i in range(MAX_TRAJECTORY_POINTS + 1)]
    text = error_text(sample(track={"id": 1, "trajectory": points}))
    assert "track.trajectory" in text and f"at most {MAX_TRAJECTORY_POINTS} items" in text


def test_unknown_type_and_schema_are_rejected():
    assert "'jaywalking' or 'littering'" in error_text(sample(type="speeding"))
    assert "curbwatch.infraction/2" in error_text(sample(schema="curbwatch.infraction/3"))


def test_end_before_start_is_rejected():
    assert "frame_end is before frame_start" in error_text(sample(frame_start=60, frame_end=55))
    assert "ended_at is before started_at" in error_text(sample(ended_at="2026-11-21T09:59:59Z"))


def test_coordinates_outside_the_frame_are_rejected():
    text = error_text(sample(track={"id": 1, "trajectory": [{"t": 0.0, "x": 1.2, "y": 0.5}]}))
    assert "track.trajectory.0.x" in text and "less than or equal to 1" in text


def test_evidence_needs_a_real_digest():
    text = error_text(sample(evidence=[{"sha256": "xyz", "media_type": "image/jpeg", "role": "keyframe"}]))
    assert "evidence.0.sha256" in text
