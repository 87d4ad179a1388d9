"""The infraction message (DESIGN.md section 4), one per infraction, exactly the MQTT payload.

Schema /2 (docs/transport.md) adds optional geometry and provenance so the console draws the zone, the track
and the item over evidence instead of the camera burning them in: `zone_polygon`, `item_box`, `source`, and
the evidence role `item_crop`. A /1 message is still accepted, but never with any of these."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import Field, field_validator, model_validator

from models.base import IDENT_PATTERN, SHA256_PATTERN, StrictModel
from models.config.zones import MAX_ZONE_POINTS
from models.event_limits import MAX_EVENT_S
from models.portable import whole_as_int
from models.rule_catalogue import InfractionType as InfractionType  # read from here by most of its users
from models.wire import Count, Flag, Seconds, Signature, Time, Unit, Uuid, WireModel
from models.wire import Scalar as Scalar  # the rule trace's value type, imported from here by its readers

INFRACTION_SCHEMA_V1: Final = "curbwatch.infraction/1"
INFRACTION_SCHEMA: Final = "curbwatch.infraction/2"
"""What the edge writes; central accepts both."""
INFRACTION_SCHEMAS = (INFRACTION_SCHEMA_V1, INFRACTION_SCHEMA)
MAX_CLIP_NAME = 128
MAX_TRAJECTORY_POINTS = 64
MAX_EVIDENCE_ITEMS = 16
MAX_RULE_ENTRIES = 32
MAX_MESSAGE_BYTES = 64 * 1024
"""An infraction message larger than this is refused; evidence travels on its own topic."""
RATIO_KEYS = frozenset(
    {
        "rider_share",
        "mean_person_confidence",
        "min_person_confidence",
        "item_label_confidence",
        "item_area",
        "item_x",
        "item_y",
    }
)
"""Rule-trace entries that are shares, scores or normalised positions (edge/rules)."""

SignalPhase = Literal["walk", "dont_walk"]


class TrajectoryPoint(StrictModel):
    """A coarse sample of the track: seconds after `started_at`, position normalised to the frame."""

    t: Seconds
    x: Unit
    y: Unit


class TrackInfo(StrictModel):
    id: Annotated[Count, Field(description="Ephemeral track id, meaningful only inside one camera process.")]
    trajectory: Annotated[list[TrajectoryPoint], Field(max_length=MAX_TRAJECTORY_POINTS)] = []


class RuleTrace(StrictModel):
    """What fired: the rule, its version, the thresholds in force and the measurements that crossed them."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    version: Annotated[str, Field(min_length=1, max_length=32)]
    thresholds: Annotated[dict[str, Scalar], Field(max_length=MAX_RULE_ENTRIES)] = {}
    measurements: Annotated[dict[str, Scalar], Field(max_length=MAX_RULE_ENTRIES)] = {}

    @model_validator(mode="after")
    def _in_range(self) -> RuleTrace:
        for kind, values in (("thresholds", self.thresholds), ("measurements", self.measurements)):
            for key, value in values.items():
                if not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                if key in RATIO_KEYS and not 0.0 <= value <= 1.0:
                    raise ValueError(f"{kind}.{key} is {value}, a ratio must lie in [0, 1]")
                if key.endswith("_s") and value < 0:
                    raise ValueError(f"{kind}.{key} is {value}, a time or a speed is never negative")
        return self


class ModelRef(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)]


class EvidenceRef(StrictModel):
    """Points at evidence bytes published on `{prefix}/{site}/{camera}/evidence/{sha256}`.

    `keyframe` and `clip` are whole frames as filmed (redacted), over which the console draws the geometry;
    `item_crop` (/2 only) is a composite cut around a littering item, marked by the camera itself."""

    sha256: Annotated[str, Field(pattern=SHA256_PATTERN)]
    media_type: Literal["image/jpeg", "video/webm", "video/mp4"]
    role: Literal["keyframe", "clip", "item_crop"]


Point = tuple[Unit, Unit]
"""[x, y] normalised to the frame."""


class SourceRef(StrictModel):
    """Where the frames came from: a live camera, or a recorded file replayed (`clip` its base name only, never a
    path, and `offset_s` the seconds into it where the event starts)."""

    kind: Literal["live", "file"]
    clip: Annotated[str | None, Field(min_length=1, max_length=MAX_CLIP_NAME)] = None
    offset_s: Seconds | None = None

    @field_validator("clip")
    @classmethod
    def _base_name(cls, value: str | None) -> str | None:
        # A path would tell central about the camera box's folders, and could be shown as a link.
        if value is not None and (value in (".", "..") or any(c in "/\\" or ord(c) < 32 or c == "\x7f" for c in value)):
            raise ValueError("must be the file's base name, not a path (no '/', '\\' or control characters)")
        return value

    @model_validator(mode="after")
    def _fits_kind(self) -> SourceRef:
        if self.kind == "file" and (self.clip is None or self.offset_s is None):
            raise ValueError("a file source needs clip and offset_s")
        if self.kind == "live" and (self.clip is not None or self.offset_s is not None):
            raise ValueError("a live source has no clip or offset_s")
        return self


V2_FIELDS = ("zone_polygon", "item_box", "source")


class InfractionMessage(WireModel):
    schema_: Annotated[Literal["curbwatch.infraction/1", "curbwatch.infraction/2"], Field(alias="schema")] = (
        INFRACTION_SCHEMA
    )
    event_id: Uuid
    type: InfractionType
    site: Annotated[str, Field(pattern=IDENT_PATTERN)]
    camera_id: Annotated[str, Field(pattern=IDENT_PATTERN)]
    started_at: Time
    ended_at: Time
    frame_start: Count
    frame_end: Count
    zone: Annotated[str, Field(min_length=1, max_length=64)]
    confidence: Unit
    track: TrackInfo
    rule: RuleTrace
    signal_phase: SignalPhase | None = None
    model: ModelRef
    evidence: Annotated[list[EvidenceRef], Field(max_length=MAX_EVIDENCE_ITEMS)] = []
    redacted: Flag = True
    zone_polygon: Annotated[
        list[Point] | None, Field(min_length=3, max_length=MAX_ZONE_POINTS, description="/2: the zone's outline.")
    ] = None
    item_box: Annotated[
        tuple[Unit, Unit, Unit, Unit] | None, Field(description="/2, littering: the item's [x1, y1, x2, y2].")
    ] = None
    source: SourceRef | None = None
    signature: Signature = None

    @model_validator(mode="after")
    def _ordered(self) -> InfractionMessage:
        if self.ended_at < self.started_at:
            raise ValueError("ended_at is before started_at")
        span = (self.ended_at - self.started_at).total_seconds()
        if span > MAX_EVENT_S:
            raise ValueError(f"the event lasts {span:.0f} s, longer than any rule reports ({MAX_EVENT_S:.0f} s)")
        if self.frame_end < self.frame_start:
            raise ValueError("frame_end is before frame_start")
        if self.item_box is not None and (self.item_box[2] < self.item_box[0] or self.item_box[3] < self.item_box[1]):
            raise ValueError("item_box must be [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2")
        if self.schema_ == INFRACTION_SCHEMA_V1:
            carried = [name for name in V2_FIELDS if getattr(self, name) is not None]
            carried += ["evidence role item_crop"] if any(ref.role == "item_crop" for ref in self.evidence) else []
            if carried:
                raise ValueError(f"{', '.join(carried)}: only in {INFRACTION_SCHEMA}, not in {INFRACTION_SCHEMA_V1}")
        return self

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready dict that goes on the wire (aliases applied, UTC timestamps, whole numbers as ints, see
        models.portable). The /2 fields are left out when empty, so a /1 message reads exactly as /1 edges wrote it."""
        payload = self.model_dump(mode="json", by_alias=True)
        for name in V2_FIELDS:
            if payload[name] is None:
                del payload[name]
        if "source" in payload:  # a live source says only that
            payload["source"] = {key: value for key, value in payload["source"].items() if value is not None}
        return whole_as_int(payload)
