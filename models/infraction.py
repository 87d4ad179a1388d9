"""The infraction message (DESIGN.md section 4), one per infraction, exactly the MQTT payload."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, field_serializer, field_validator, model_validator

from models.base import IDENT_PATTERN, SHA256_PATTERN, StrictModel

INFRACTION_SCHEMA = "curbwatch.infraction/1"
MAX_TRAJECTORY_POINTS = 64
MAX_EVIDENCE_ITEMS = 16
MAX_RULE_ENTRIES = 32
MAX_MESSAGE_BYTES = 64 * 1024
"""An infraction message larger than this is refused; evidence travels on its own topic."""

InfractionType = Literal["jaywalking", "littering"]
SignalPhase = Literal["walk", "dont_walk"]
Scalar = float | int | str | bool | None
Unit = Annotated[float, Field(ge=0.0, le=1.0)]


def utc_iso(value: datetime) -> str:
    """ISO 8601 in UTC with a trailing Z, the one spelling every message uses."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class TrajectoryPoint(StrictModel):
    """A coarse sample of the track: seconds after `started_at`, position normalised to the frame."""

    t: Annotated[float, Field(ge=0.0)]
    x: Unit
    y: Unit


class TrackInfo(StrictModel):
    id: Annotated[int, Field(ge=0, description="Ephemeral track id, meaningful only inside one camera process.")]
    trajectory: Annotated[list[TrajectoryPoint], Field(max_length=MAX_TRAJECTORY_POINTS)] = []


class RuleTrace(StrictModel):
    """What fired: the rule, its version, the thresholds in force and the measurements that crossed them."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    version: Annotated[str, Field(min_length=1, max_length=32)]
    thresholds: Annotated[dict[str, Scalar], Field(max_length=MAX_RULE_ENTRIES)] = {}
    measurements: Annotated[dict[str, Scalar], Field(max_length=MAX_RULE_ENTRIES)] = {}


class ModelRef(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)]


class EvidenceRef(StrictModel):
    """Points at evidence bytes published on `{prefix}/{site}/{camera}/evidence/{sha256}`."""

    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)]
    media_type: Literal["image/jpeg", "video/webm", "video/mp4"]
    role: Literal["keyframe", "clip"]


class InfractionMessage(StrictModel):
    schema_: Annotated[Literal["curbwatch.infraction/1"], Field(alias="schema")] = INFRACTION_SCHEMA
    event_id: uuid.UUID
    type: InfractionType
    site: Annotated[str, Field(pattern=IDENT_PATTERN)]
    camera_id: Annotated[str, Field(pattern=IDENT_PATTERN)]
    started_at: AwareDatetime
    ended_at: AwareDatetime
    frame_start: Annotated[int, Field(ge=0)]
    frame_end: Annotated[int, Field(ge=0)]
    zone: Annotated[str, Field(min_length=1, max_length=64)]
    confidence: Unit
    track: TrackInfo
    rule: RuleTrace
    signal_phase: SignalPhase | None = None
    model: ModelRef
    evidence: Annotated[list[EvidenceRef], Field(max_length=MAX_EVIDENCE_ITEMS)] = []
    redacted: bool = True
    signature: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9+/]+={0,2}$", max_length=128)] = None

    model_config = StrictModel.model_config | {"populate_by_name": True}

    @field_validator("started_at", "ended_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_serializer("started_at", "ended_at")
    def _iso(self, value: datetime) -> str:
        return utc_iso(value)

    @field_serializer("event_id")
    def _uuid(self, value: uuid.UUID) -> str:
        return str(value)

    @model_validator(mode="after")
    def _ordered(self) -> InfractionMessage:
        if self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        if self.frame_end < self.frame_start:
            raise ValueError("frame_end is before frame_start")
        return self

    def to_payload(self) -> dict:
        """The JSON-ready dict that goes on the wire (aliases applied, UTC timestamps)."""
        return self.model_dump(mode="json", by_alias=True)
