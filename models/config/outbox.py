"""The edge's durable outbox: every message waits here until central's receipt (or, without
`signing.central_key`, the broker's acknowledgement) releases it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from models.base import StrictModel


class OutboxConfig(StrictModel):
    path: Annotated[
        Path | None,
        Field(description="SQLite file of the outbox; default `data/outbox-CAMERA_ID.db`."),
    ] = None
    max_messages: Annotated[int, Field(ge=10, le=10_000_000, description="Messages held at most.")] = 100_000
    max_bytes: Annotated[
        int, Field(ge=1 << 20, le=1 << 40, description="Payload bytes held at most (evidence included).")
    ] = 2 << 30
    when_full: Annotated[
        Literal["refuse_new", "drop_oldest"],
        Field(
            description="`refuse_new` keeps what is queued and drops the new event (logged); `drop_oldest` "
            "drops the oldest queued events to make room. Either way a warning is logged."
        ),
    ] = "refuse_new"
    warn_at: Annotated[
        float, Field(gt=0.0, le=1.0, description="Fill ratio at which a warning is logged (once per crossing).")
    ] = 0.8
    resend_after_s: Annotated[
        float,
        Field(
            gt=0.0,
            le=3600.0,
            description="A message the broker acknowledged but central has not receipted is sent again after this "
            "long; the wait doubles with each try.",
        ),
    ] = 30.0
    resend_max_s: Annotated[
        float, Field(gt=0.0, le=86_400.0, description="Longest wait between two tries of an unreceipted message.")
    ] = 600.0

    @model_validator(mode="after")
    def _resend_order(self) -> OutboxConfig:
        if self.resend_max_s < self.resend_after_s:
            raise ValueError("resend_max_s is below resend_after_s")
        return self

    def file_for(self, camera_id: str) -> Path:
        return self.path or Path("data") / f"outbox-{camera_id}.db"
