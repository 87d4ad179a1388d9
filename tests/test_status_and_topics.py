import pytest
from pydantic import ValidationError

from models.status import StatusMessage
from models.topics import (
    TopicError,
    evidence_topic,
    infraction_topic,
    parse_topic,
    status_topic,
    subscription,
)

SHA = "0123456789abcdef" * 4


def test_heartbeat_round_trip():
    message = StatusMessage.model_validate(
        {
            "schema": "curbwatch.status/1",
            "site": "main-st",
            "camera_id": "cam-01",
            "state": "online",
            "at": "2026-11-21T10:00:00+00:00",
            "heartbeat": {"uptime_s": 12.5, "fps": 9.8, "queue_depth": 0, "model": "yolov8n.pt"},
        }
    )
    wire = message.to_payload()
    assert wire["at"] == "2026-11-21T10:00:00Z"
    assert StatusMessage.model_validate(wire) == message


def test_last_will_needs_no_timestamp_and_unknown_state_is_refused():
    will = StatusMessage(site="s", camera_id="c", state="offline")
    assert will.to_payload() == {"schema": "curbwatch.status/1", "site": "s", "camera_id": "c", "state": "offline"}
    with pytest.raises(ValidationError, match="'online' or 'offline'"):
        StatusMessage(site="s", camera_id="c", state="sleeping")


def test_topics_build_and_parse_back():
    assert infraction_topic("main-st", "cam-01") == "curbwatch/v1/main-st/cam-01/infraction"
    assert status_topic("main-st", "cam-01", prefix="city/x") == "city/x/main-st/cam-01/status"
    evidence = evidence_topic("main-st", "cam-01", SHA)
    parsed = parse_topic(evidence)
    assert (parsed.kind, parsed.site, parsed.camera, parsed.sha256) == ("evidence", "main-st", "cam-01", SHA)
    assert parse_topic("city/x/a/b/status", prefix="city/x").kind == "status"
    assert subscription(share_group="central") == "$share/central/curbwatch/v1/#"


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("other/v1/s/c/infraction", "outside the prefix"),
        ("curbwatch/v1/s/c", "too few levels"),
        ("curbwatch/v1/s/c/speeding", "not an infraction"),
        ("curbwatch/v1/s/c/evidence/xyz", "does not end in a sha256"),
        ("curbwatch/v1/s+/c/infraction", "not a valid id"),
    ],
)
def test_foreign_topics_are_refused_with_a_reason(topic, reason):
    with pytest.raises(TopicError, match=reason):
        parse_topic(topic)


def test_builders_refuse_wildcards_in_ids():
    with pytest.raises(TopicError, match="camera '#'"):
        infraction_topic("site", "#")
