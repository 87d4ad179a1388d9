"""The item status message: what became of a littering event's item, published on `{prefix}/{site}/{camera}/item`.

After a littering event the edge keeps watching the item's place and says, linked to the event, that the item is
`still_there` (at intervals), that it was `removed` (its place looks like the ground again), or that the edge
no longer knows (`unknown`: its background models started over because the camera moved or the scene changed
at once, its littering zones changed, or it followed the item as long as it is set to). It carries no image and
nothing about any person: who removed an item is never recorded or inferred."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import Field, model_validator

from models.base import IDENT_PATTERN
from models.event_limits import MAX_FOLLOW_S
from models.portable import whole_as_int
from models.wire import Seconds, Signature, Time, Unit, Uuid, WireModel

ITEM_SCHEMA: Final = "curbwatch.item/1"
ItemState = Literal["still_there", "removed", "unknown"]
ITEM_STATES: Final[tuple[ItemState, ...]] = ("still_there", "removed", "unknown")


class ItemStatusMessage(WireModel):
    schema_: Annotated[Literal["curbwatch.item/1"], Field(alias="schema")] = ITEM_SCHEMA
    status_id: Annotated[Uuid, Field(description="The idempotency key: a resend is absorbed.")]
    event_id: Annotated[Uuid, Field(description="The littering event whose item this is.")]
    site: Annotated[str, Field(pattern=IDENT_PATTERN)]
    camera_id: Annotated[str, Field(pattern=IDENT_PATTERN)]
    state: ItemState
    at: Annotated[
        Time,
        Field(
            description="Camera time: still_there, when it was seen there; removed, when it was last seen there "
            "(its place looked like the ground right after); unknown, when the edge stopped knowing."
        ),
    ]
    since_event_s: Annotated[Seconds, Field(description="Seconds from the event's start (the drop) to `at`.")]
    item_box: Annotated[tuple[Unit, Unit, Unit, Unit], Field(description="The item's [x1, y1, x2, y2], normalised.")]
    signature: Signature = None

    @model_validator(mode="after")
    def _box(self) -> ItemStatusMessage:
        x1, y1, x2, y2 = self.item_box
        if x2 < x1 or y2 < y1:
            raise ValueError("item_box must be [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2")
        if self.since_event_s > MAX_FOLLOW_S:
            raise ValueError(
                f"since_event_s is {self.since_event_s:.0f} s, later than an item is followed ({MAX_FOLLOW_S:.0f} s)"
            )
        return self

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready dict that goes on the wire (whole numbers as ints, see models.portable)."""
        return whole_as_int(self.model_dump(mode="json", by_alias=True))
