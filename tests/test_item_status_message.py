"""The item status message: strict validation, signing, and its topic."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from models.item_status import ITEM_SCHEMA, ItemStatusMessage
from models.signing import generate_keypair, load_private_key, load_public_key, sign, verify
from models.topics import item_topic, parse_topic


def payload(**changes: object) -> dict:
    message = {
        "schema": ITEM_SCHEMA,
        "status_id": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
        "site": "site1",
        "camera_id": "cam1",
        "state": "removed",
        "at": "2026-01-02T03:04:05Z",
        "since_event_s": 120.5,
        "item_box": [0.1, 0.2, 0.3, 0.4],
    }
    return message | changes


def test_round_trip_and_signature(tmp_path) -> None:
    private, public = generate_keypair("cam1", tmp_path)
    message = ItemStatusMessage.model_validate(payload())
    assert message.at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    signed = sign(message.to_payload(), load_private_key(private))
    assert verify(signed, load_public_key(public))
    assert ItemStatusMessage.model_validate(signed).to_payload() == signed


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"state": "picked_up"}, "state"),
        ({"removed_by": "someone"}, "removed_by"),
        ({"image": "AAAA"}, "image"),
        ({"since_event_s": -1}, "since_event_s"),
        ({"item_box": [0.3, 0.2, 0.1, 0.4]}, "item_box"),
        ({"item_box": [0.1, 0.2, 1.3, 0.4]}, "item_box"),
        ({"schema": "curbwatch.item/2"}, "schema"),
        ({"camera_id": "cam/1"}, "camera_id"),
        ({"at": "2026-01-02T03:04:05"}, "at"),
    ],
)
def test_refuses(changes: dict, problem: str) -> None:
    with pytest.raises(ValidationError) as error:
        ItemStatusMessage.model_validate(payload(**changes))
    assert problem in str(error.value)


def test_topic() -> None:
    topic = item_topic("site1", "cam1")
    assert topic == "curbwatch/v1/site1/cam1/item"
    parsed = parse_topic(topic)
    assert (parsed.kind, parsed.site, parsed.camera) == ("item", "site1", "cam1")


def test_central_verifies_and_stores_a_status_once(tmp_path) -> None:
    from datetime import timedelta

    from central.db import Base, make_engine, session_factory, transaction
    from central.evidence_store import FolderEvidenceStore
    from central.store import Quarantine, write_batch
    from central.verify import Refused, Verifier
    from models.topics import infraction_topic

    private, public = generate_keypair("cam1", tmp_path / "keys")
    key = load_private_key(private)
    verifier = Verifier({"cam1": load_public_key(public)})
    now = datetime(2026, 1, 2, 3, 10, tzinfo=UTC)
    body = sign(payload(), key)
    raw = json.dumps(body).encode()
    accepted = verifier.check(item_topic("site1", "cam1"), raw, now)
    with pytest.raises(Refused, match="unknown schema"):
        verifier.check(infraction_topic("site1", "cam1"), raw, now)
    with pytest.raises(Refused, match="stale: the item status"):
        verifier.check(item_topic("site1", "cam1"), raw, now + timedelta(days=31))
    with pytest.raises(Refused, match="invalid message"):
        verifier.check(item_topic("site1", "cam1"), json.dumps(sign(payload(state="gone"), key)).encode(), now)

    engine = make_engine(f"sqlite:///{tmp_path / 'central.db'}")
    Base.metadata.create_all(engine)
    blobs = FolderEvidenceStore(tmp_path / "evidence")
    refused = Quarantine(item_topic("site1", "cam1"), b"{", "malformed", "cam1")
    with transaction(session_factory(engine)) as session:
        first = write_batch(session, blobs, [accepted, refused])
    with transaction(session_factory(engine)) as session:
        again = write_batch(session, blobs, [accepted])
    assert (first["item_status"], first["quarantined"]) == (1, 1)
    assert (again["item_status"], again["duplicates"]) == (0, 1)
