"""Infraction schema /2 (issue 14 §1, §6): the zone's outline, the item's box and the source travel in the message;
/1 from an edge not yet updated is still verified and stored, but never with a /2 field; a clip is named by its
base name only; the console dates an event by its place in a replayed clip, or by the camera box's clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from central.console.event_time import clip_position, clock_offset_text, event_time
from central.db import make_engine, session_factory, transaction
from central.evidence_store import FolderEvidenceStore
from central.migrate import upgrade
from central.store import update_status, write_batch
from central.tables import CameraStatus, Infraction
from central.verify import Accepted, Refused, Verifier
from edge.loadgen import synthetic_message
from edge.messages import build_message, clip_name
from edge.publisher import encode
from edge.rules.base import RuleHit
from models.config.camera import CameraConfig
from models.infraction import INFRACTION_SCHEMA, INFRACTION_SCHEMA_V1, MAX_CLIP_NAME, InfractionMessage, ModelRef
from models.signing import generate_keypair, load_private_key, load_public_keys, sign
from models.status import StatusMessage
from models.topics import infraction_topic
from tests.test_infraction_message import sample

SQUARE = [[0.1, 0.4], [0.9, 0.4], [0.9, 0.8], [0.1, 0.8]]
V2 = {
    "schema": INFRACTION_SCHEMA,
    "zone_polygon": SQUARE,
    "item_box": [0.4, 0.5, 0.45, 0.56],
    "source": {"kind": "file", "clip": "vtest.avi", "offset_s": 42.5},
}


def refusal(payload: dict) -> str:
    with pytest.raises(ValidationError) as info:
        InfractionMessage.model_validate(payload)
    return str(info.value)


def test_a_v2_message_carries_the_zone_item_and_source_and_round_trips():
    message = InfractionMessage.model_validate(sample(**V2))
    wire = message.to_payload()
    assert wire["schema"] == "curbwatch.infraction/2"
    assert wire["zone_polygon"] == SQUARE and wire["item_box"] == [0.4, 0.5, 0.45, 0.56]
    assert wire["source"] == {"kind": "file", "clip": "vtest.avi", "offset_s": 42.5}
    assert InfractionMessage.model_validate(wire) == message
    live = InfractionMessage.model_validate(sample(schema=INFRACTION_SCHEMA, source={"kind": "live"})).to_payload()
    assert live["source"] == {"kind": "live"} and "zone_polygon" not in live and "item_box" not in live


def test_v1_is_still_accepted_but_never_with_a_v2_field():
    assert InfractionMessage.model_validate(sample()).schema_ == INFRACTION_SCHEMA_V1
    for name, value in V2.items():
        if name != "schema":
            assert f"{name}: only in curbwatch.infraction/2" in refusal(sample(**{name: value}))
    crop = [{"sha256": "a" * 64, "media_type": "image/jpeg", "role": "item_crop"}]
    assert "evidence role item_crop: only in curbwatch.infraction/2" in refusal(sample(evidence=crop))
    InfractionMessage.model_validate(sample(schema=INFRACTION_SCHEMA, evidence=crop))


@pytest.mark.parametrize(
    "clip", ["/srv/footage/vtest.avi", "cams/vtest.avi", "C:\\footage\\vtest.avi", "..", "bad\nname.avi", "x" * 129]
)
def test_a_clip_is_a_base_name_never_a_path(clip):
    text = refusal(sample(schema=INFRACTION_SCHEMA, source={"kind": "file", "clip": clip, "offset_s": 1.0}))
    assert "source.clip" in text


def test_source_fields_fit_its_kind_and_the_geometry_is_bounded():
    v2 = {"schema": INFRACTION_SCHEMA}
    assert "a live source has no clip" in refusal(sample(**v2, source={"kind": "live", "clip": "a.avi"}))
    assert "a file source needs clip and offset_s" in refusal(sample(**v2, source={"kind": "file", "clip": "a.avi"}))
    assert "zone_polygon" in refusal(sample(**v2, zone_polygon=[[0.1, 0.1], [0.2, 0.2]]))
    assert "zone_polygon.0.0" in refusal(sample(**v2, zone_polygon=[[1.5, 0.1], [0.2, 0.2], [0.3, 0.1]]))
    assert "x1 <= x2" in refusal(sample(**v2, item_box=[0.5, 0.5, 0.4, 0.6]))


def test_the_edge_names_a_clip_by_its_base_name_within_the_limit():
    assert clip_name("/srv/footage/cam 3/vtest.avi") == "vtest.avi"
    long = clip_name("/x/" + "a" * 300 + ".mp4")
    assert len(long) == MAX_CLIP_NAME and long.endswith("~.mp4")
    assert clip_name("odd\\name\x01.avi") == "odd_name_.avi"


def littering_hit() -> RuleHit:
    return RuleHit(
        type="littering",
        track_id=4,
        zone="corner",
        frame_start=300,
        frame_end=420,
        t_start=42.7,
        t_end=54.7,
        confidence=0.7,
        trajectory=((0.0, 0.3, 0.6), (2.0, 0.5, 0.62)),
        thresholds={"grace_s": 5.0},
        measurements={"away_s": 6.1},
        rule_version="2",
        item_box=(0.45, 0.55, 0.4, 0.6),
    )


def test_the_edge_writes_v2_with_the_zone_as_judged_the_item_and_the_clip_offset():
    config = CameraConfig.model_validate(
        {
            "camera": {"id": "cam1", "site": "site1"},
            "source": {"uri": "footage/vtest.avi"},
            "zones": [{"name": "corner", "kind": "litter_watch", "polygon": SQUARE}],
        }
    )
    model = ModelRef(name="m", sha256="0" * 64)
    origin = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    args = {"origin": origin, "model": model, "evidence": [], "redacted": True, "zone": config.zones[0]}
    wire = build_message(littering_hit(), config, **args, clip="/data/footage/vtest.avi").to_payload()
    assert wire["schema"] == "curbwatch.infraction/2"
    assert wire["zone_polygon"] == SQUARE
    assert wire["item_box"] == [0.4, 0.55, 0.45, 0.6]
    assert wire["source"] == {"kind": "file", "clip": "vtest.avi", "offset_s": 42.7}
    live = build_message(littering_hit(), config, **args).to_payload()
    assert live["source"] == {"kind": "live"}


@pytest.fixture
def keys(tmp_path):
    generate_keypair("cam1", tmp_path / "keys")
    return tmp_path / "keys"


def test_a_signed_v1_message_from_an_old_edge_is_verified_and_stored(keys, tmp_path):
    old = synthetic_message("site1", "cam1", 7, 0, []).to_payload() | {"schema": INFRACTION_SCHEMA_V1}
    assert not set(old) & {"zone_polygon", "item_box", "source"}, "exactly what a /1 edge sends"
    private = load_private_key(keys / "cam1.key")
    verifier = Verifier(load_public_keys(keys))
    topic = infraction_topic("site1", "cam1")
    accepted = verifier.check(topic, encode(sign(old, private)))
    assert isinstance(accepted, Accepted)
    with pytest.raises(Refused, match=r"invalid message: .*only in curbwatch\.infraction/2"):
        verifier.check(topic, encode(sign(old | {"zone_polygon": SQUARE}, private)))
    new = synthetic_message("site1", "cam1", 7, 1, []).to_payload() | {"zone_polygon": SQUARE}
    accepted_new = verifier.check(topic, encode(sign(new, private)))

    url = f"sqlite:///{tmp_path / 'central.db'}"
    upgrade(url)
    factory = session_factory(make_engine(url))
    with transaction(factory) as session:
        counts = write_batch(session, FolderEvidenceStore(tmp_path / "blobs"), [accepted, accepted_new])
    assert counts["stored"] == 2
    with transaction(factory) as session:
        stored = {row.payload["schema"]: row.payload for row in session.scalars(select(Infraction))}
    assert stored[INFRACTION_SCHEMA_V1]["event_id"] == old["event_id"]
    assert stored[INFRACTION_SCHEMA]["zone_polygon"] == SQUARE


def test_heartbeats_give_the_box_clock_offset_and_the_last_will_keeps_it(tmp_path):
    url = f"sqlite:///{tmp_path / 'central.db'}"
    upgrade(url)
    factory = session_factory(make_engine(url))
    now = datetime.now(UTC)

    def status(**fields: object) -> StatusMessage:
        return StatusMessage(site="site1", camera_id="cam1", **fields)

    def offset() -> float | None:
        with transaction(factory) as session:
            return session.scalar(select(CameraStatus.clock_offset_s))

    with transaction(factory) as session:
        update_status(session, [status(state="online", at=now + timedelta(seconds=12))], now)
    assert offset() == pytest.approx(12.0)
    with transaction(factory) as session:
        update_status(session, [status(state="offline")], now + timedelta(seconds=60))
    assert offset() == pytest.approx(12.0), "the Last Will has no time of its own"


def test_when_an_event_happened_in_words():
    started = datetime(2026, 1, 5, 9, 0, 3, tzinfo=UTC)
    replay = event_time({"source": {"kind": "file", "clip": "vtest.avi", "offset_s": 42.7}}, started, None)
    assert (replay.main, replay.detail) == ("vtest.avi at 0:42", "replayed 2026-01-05 09:00:03 UTC")
    live = event_time({"source": {"kind": "live"}}, started, 12.4)
    assert (live.main, live.detail) == ("2026-01-05 09:00:03 UTC", "camera clock 12 s ahead")
    assert event_time({"source": {"kind": "live"}}, started, -4.0).detail is None, "within 5 s says nothing"
    assert event_time({"schema": INFRACTION_SCHEMA_V1}, started, 30.0).detail is None, "/1: as before"
    assert clip_position(3723.9) == "1:02:03" and clip_position(605) == "10:05"
    assert clock_offset_text(-300) == "camera clock 5 min behind"
