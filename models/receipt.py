"""The receipt: central's signed word that it holds a camera's messages (stored, absorbed as a duplicate, or
quarantined), sent after its database commit on the camera's receipt topic.

A message is named by the sha256 of its exact payload bytes: evidence by the digest already in its topic,
an infraction by the digest of its signed JSON. That names every row of an edge outbox, also one central
could not parse, and a receipt for some other version of an event (same event id, other bytes) does not
release this one."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import Field

from models.base import IDENT_PATTERN, SHA256_PATTERN, StrictModel
from models.wire import Signature, Time, WireModel

RECEIPT_SCHEMA: Final = "curbwatch.receipt/1"
MAX_RECEIPT_BYTES = 1 << 20
"""Far above a full batch (500 digests of 64 characters and a reason each); the edge reads no more."""

Digest = Annotated[str, Field(pattern=SHA256_PATTERN)]


class QuarantinedRef(StrictModel):
    sha256: Digest
    reason: Annotated[str, Field(max_length=500)]


class ReceiptMessage(WireModel):
    schema_: Annotated[Literal["curbwatch.receipt/1"], Field(alias="schema")] = RECEIPT_SCHEMA
    site: Annotated[str, Field(pattern=IDENT_PATTERN)]
    camera_id: Annotated[str, Field(pattern=IDENT_PATTERN)]
    at: Time
    stored: Annotated[
        list[Digest], Field(max_length=10_000, description="Payload digests central holds (new or duplicates).")
    ] = []
    quarantined: Annotated[
        list[QuarantinedRef], Field(max_length=10_000, description="Payload digests central refused, with why.")
    ] = []
    signature: Signature = None

    def to_payload(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)
