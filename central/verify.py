"""Every received message passes these checks before anything is stored; a failure names the reason.

Order: topic, size, JSON, schema, camera of the topic vs the message, known key, signature, full
validation, age. A replayed copy of a stored message (same event_id) passes and is absorbed by the
store as a duplicate; a message whose event ended longer ago than `max_age` is refused as stale, so an
old capture cannot be slipped in after its original was purged."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from models.errors import InputError, format_validation_error
from models.infraction import INFRACTION_SCHEMAS, MAX_MESSAGE_BYTES, InfractionMessage
from models.item_status import ITEM_SCHEMA, ItemStatusMessage
from models.signing import verify
from models.status import STATUS_SCHEMA, StatusMessage
from models.topics import DEFAULT_PREFIX, Topic, TopicError, parse_topic

MAX_EVIDENCE_BYTES = 32 * 1024 * 1024
MAX_AGE = timedelta(days=30)
"""An event that ended longer ago is stale: an old capture must not be slipped in after its original was purged.
The edge outbox keeps a message until its receipt, so this is also the oldest message it can still deliver."""
MAX_SKEW = timedelta(minutes=10)
"""How far ahead of central's clock a camera's may run."""
Message = InfractionMessage | StatusMessage | ItemStatusMessage
SCHEMAS: dict[str, tuple[tuple[str, ...], type[Message]]] = {
    "infraction": (INFRACTION_SCHEMAS, InfractionMessage),
    "status": ((STATUS_SCHEMA,), StatusMessage),
    "item": ((ITEM_SCHEMA,), ItemStatusMessage),
}
"""The schema versions each topic kind accepts: edges not yet updated still send infraction /1."""


class Refused(InputError):
    """A message that must not be stored: `reason` for the quarantine, `camera_id` when the topic names one."""

    def __init__(self, reason: str, camera_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.camera_id = reason, camera_id


@dataclass(frozen=True)
class Accepted:
    topic: Topic
    payload: bytes
    message: Message | None = None
    """None for evidence, whose bytes are vouched for by the signed message that lists their sha256."""
    signed: dict | None = None
    """The message exactly as received and signed, so its signature can be checked again from the store."""


@dataclass
class Verifier:
    keys: dict[str, Ed25519PublicKey]
    prefix: str = DEFAULT_PREFIX
    max_message_bytes: int = MAX_MESSAGE_BYTES
    max_evidence_bytes: int = MAX_EVIDENCE_BYTES
    max_age: timedelta = MAX_AGE
    max_skew: timedelta = MAX_SKEW

    def check(self, topic_name: str, payload: bytes, now: datetime | None = None) -> Accepted:
        try:
            topic = parse_topic(topic_name, self.prefix)
        except TopicError as exc:
            raise Refused(f"bad topic: {exc}") from None
        camera = topic.camera
        if camera not in self.keys:
            raise Refused(f"unknown camera {camera!r}: no public key {camera}.pub", camera)
        if topic.kind == "evidence":
            return self._evidence(topic, payload)
        if len(payload) > self.max_message_bytes:
            raise Refused(f"oversize: {len(payload)} bytes, the limit is {self.max_message_bytes}", camera)
        data = self._json(payload, camera)
        schemas, model = SCHEMAS[topic.kind]
        if data.get("schema") not in schemas:
            raise Refused(f"unknown schema {str(data.get('schema'))[:80]!r} on a {topic.kind} topic", camera)
        if data.get("camera_id") != camera or data.get("site") != topic.site:
            raise Refused(
                f"message for {str(data.get('site'))[:64]}/{str(data.get('camera_id'))[:64]} "
                f"on the topic of {topic.site}/{camera}",
                camera,
            )
        if "signature" not in data or data["signature"] is None:
            raise Refused("unsigned", camera)
        if not verify(data, self.keys[camera]):
            raise Refused(f"bad signature: not signed by {camera}'s key", camera)
        try:
            message = model.model_validate(data)
        except ValidationError as exc:
            raise Refused("invalid message: " + "; ".join(format_validation_error(exc, model))[:500], camera) from None
        if isinstance(message, InfractionMessage | ItemStatusMessage):
            late = implausible_time(message, now or datetime.now(UTC), self.max_age, self.max_skew)
            if late:
                raise Refused(late, camera)
        return Accepted(topic, payload, message, data)

    def _evidence(self, topic: Topic, payload: bytes) -> Accepted:
        if len(payload) > self.max_evidence_bytes:
            raise Refused(
                f"oversize evidence: {len(payload)} bytes, the limit is {self.max_evidence_bytes}", topic.camera
            )
        if hashlib.sha256(payload).hexdigest() != topic.sha256:
            raise Refused("evidence bytes do not hash to the sha256 in the topic", topic.camera)
        return Accepted(topic, payload)

    @staticmethod
    def _json(payload: bytes, camera: str) -> dict:
        try:
            data = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise Refused(f"malformed: not UTF-8 JSON ({exc})"[:300], camera) from None
        except RecursionError:
            raise Refused("malformed: JSON nested too deeply", camera) from None
        if not isinstance(data, dict):
            raise Refused(f"malformed: JSON {type(data).__name__}, not an object", camera)
        return data


def implausible_time(
    message: InfractionMessage | ItemStatusMessage,
    reference: datetime,
    max_age: timedelta = MAX_AGE,
    max_skew: timedelta = MAX_SKEW,
) -> str | None:
    """Why the message's times cannot be right when it reaches central at `reference`, or None."""
    # The end is the latest moment a message names: past the skew it is from the future, and it alone says how old.
    ended, past, future = (
        (message.at, "item status is from", "item status is from")
        if isinstance(message, ItemStatusMessage)
        else (message.ended_at, "event ended", "event ends")
    )
    if ended < reference - max_age:
        return f"stale: the {past} {ended.isoformat()}, older than the accepted age"
    if ended > reference + max_skew:
        return f"from the future: the {future} {ended.isoformat()}"
    return None
