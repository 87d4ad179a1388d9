"""The item status message: what became of a littering event's item, published on `{prefix}/{site}/{camera}/item`.

After a littering event the edge keeps watching the item's place and says, linked to the event, that the item is
`still_there` (at intervals), that it was `removed` (its place looks like the ground again), or that the edge
no longer knows (`unknown`: its background models started over because the camera moved or the scene changed
at once, its littering zones changed, or it followed the item as long as it is set to). It carries no image and
nothing about any person: who removed an item is never recorded or inferred."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import AwareDatetime, Field, field_serializer, field_validator, model_validator

from models.base import IDENT_PATTERN, StrictModel
from models.infraction import Unit, utc_iso
from models.portable import whole_as_int

ITEM_SCHEMA: Final = "curbwatch.item/1"
ItemState = Literal["still_there", "removed", "unknown"]
ITEM_STATES: Final[tuple[ItemState, ...]] = ("still_there", "removed", "unknown")


class ItemStatusMessage(StrictModel):
    schema_: Annotated[Literal["curbwatch.item/1"], Field(alias="schema")] = ITEM_SCHEMA
    status_id: Annotated[uuid.UUID, Field(description="The idempotency key: a resend is absorbed.")]
    event_id: Annotated[uuid.UUID, Field(description="The littering event whose item this is.")]
    site: Annotated[str, Field(pattern=IDENT_PATTERN)]
    camera_id: Annotated[str, Field(pattern=IDENT_PATTERN)]
    state: ItemState
    at: Annotated[
        AwareDatetime,
        Field(
            description="Camera time: still_there, when it was seen there; removed, when it was last seen there "
            "(its place looked like the ground right after); unknown, when the edge stopped knowing."
        ),
    ]
    since_event_s: Annotated[float, Field(ge=0.0, description="Seconds from the event's start (the drop) to `at`.")]
    item_box: Annotated[tuple[Unit, Unit, Unit, Unit], Field(description="The item's [x1, y1, x2, y2], normalised.")]
    signature: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9+/]+={0,2}$", max_length=128)] = None

    model_config = StrictModel.model_config | {"populate_by_name": True}

    @field_validator("at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_serializer("at")
    def _iso(self, value: datetime) -> str:
        return utc_iso(value)

    @field_serializer("status_id", "event_id")
    def _uuid(self, value: uuid.UUID) -> str:
        return str(value)

    @model_validator(mode="after")
    def _box(self) -> ItemStatusMessage:
        x1, y1, x2, y2 = self.item_box
        if x2 < x1 or y2 < y1:
            raise ValueError("item_box must be [x1, y1, x2, y2] with x1 <= x2 and y1 <= y2")
        return self

    def to_payload(self) -> dict[str, Any]:
        """The JSON-ready dict that goes on the wire (whole numbers as ints, see models.portable)."""
        return whole_as_int(self.model_dump(mode="json", by_alias=True))
