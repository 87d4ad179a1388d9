"""The camera status message: retained on the status topic; `offline` is also the Last Will."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import Field

from models.base import IDENT_PATTERN, StrictModel
from models.portable import whole_as_int
from models.wire import Amount, Count, Seconds, Signature, Time, WireModel

STATUS_SCHEMA: Final = "curbwatch.status/1"
StatusState = Literal["online", "offline"]


class Heartbeat(StrictModel):
    """Health figures an operator reads on the camera page."""

    uptime_s: Seconds
    fps: Amount
    queue_depth: Annotated[Count, Field(description="Messages waiting in the edge outbox.")]
    last_error: Annotated[str | None, Field(max_length=500)] = None
    model: Annotated[str, Field(max_length=128)]
    frames: Count = 0
    events: Count = 0
    required_fps: Annotated[Amount | None, Field(description="Lowest fps the enabled rules need.")] = None
    detect_fps: Annotated[
        Amount | None, Field(description="Detector runs per second lately (fewer while nothing moves).")
    ] = None
    oldest_queued_s: Annotated[
        Seconds | None, Field(description="Age of the oldest message waiting in the edge outbox, seconds.")
    ] = None


class StatusMessage(WireModel):
    schema_: Annotated[Literal["curbwatch.status/1"], Field(alias="schema")] = STATUS_SCHEMA
    site: Annotated[str, Field(pattern=IDENT_PATTERN)]
    camera_id: Annotated[str, Field(pattern=IDENT_PATTERN)]
    state: StatusState
    at: Annotated[
        Time | None,
        Field(description="When the edge sent it; absent in the Last Will, which the broker sends later."),
    ] = None
    heartbeat: Heartbeat | None = None
    signature: Signature = None

    def to_payload(self) -> dict[str, Any]:
        """What goes on the wire, whole numbers as ints (models.portable)."""
        return whole_as_int(self.model_dump(mode="json", by_alias=True, exclude_none=True))
