"""The camera status message: retained on the status topic; `offline` is also the Last Will."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import AwareDatetime, Field, field_serializer, field_validator

from models.base import IDENT_PATTERN, StrictModel
from models.infraction import utc_iso
from models.portable import whole_as_int

STATUS_SCHEMA: Final = "curbwatch.status/1"
StatusState = Literal["online", "offline"]


class Heartbeat(StrictModel):
    """Health figures an operator reads on the camera page."""

    uptime_s: Annotated[float, Field(ge=0)]
    fps: Annotated[float, Field(ge=0)]
    queue_depth: Annotated[int, Field(ge=0, description="Messages waiting in the edge outbox.")]
    last_error: Annotated[str | None, Field(max_length=500)] = None
    model: Annotated[str, Field(max_length=128)]
    frames: Annotated[int, Field(ge=0)] = 0
    events: Annotated[int, Field(ge=0)] = 0
    required_fps: Annotated[float | None, Field(ge=0, description="Lowest fps the enabled rules need.")] = None
    detect_fps: Annotated[
        float | None, Field(ge=0, description="Detector runs per second lately (fewer while nothing moves).")
    ] = None
    oldest_queued_s: Annotated[
        float | None, Field(ge=0, description="Age of the oldest message waiting in the edge outbox, seconds.")
    ] = None


class StatusMessage(StrictModel):
    schema_: Annotated[Literal["curbwatch.status/1"], Field(alias="schema")] = STATUS_SCHEMA
    site: Annotated[str, Field(pattern=IDENT_PATTERN)]
    camera_id: Annotated[str, Field(pattern=IDENT_PATTERN)]
    state: StatusState
    at: Annotated[
        AwareDatetime | None,
        Field(description="When the edge sent it; absent in the Last Will, which the broker sends later."),
    ] = None
    heartbeat: Heartbeat | None = None
    signature: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9+/]+={0,2}$", max_length=128)] = None

    model_config = StrictModel.model_config | {"populate_by_name": True}

    @field_validator("at")
    @classmethod
    def _to_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    @field_serializer("at")
    def _iso(self, value: datetime | None) -> str | None:
        return None if value is None else utc_iso(value)

    def to_payload(self) -> dict[str, Any]:
        """What goes on the wire, whole numbers as ints (models.portable)."""
        return whole_as_int(self.model_dump(mode="json", by_alias=True, exclude_none=True))
