"""Which key the edge signs its messages with, and which key vouches for central's receipts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field

from models.base import StrictModel


class SigningConfig(StrictModel):
    key: Annotated[
        Path | None,
        Field(
            description="Ed25519 private key (PEM PKCS8) from `curbwatch keys new`. Without it the edge refuses "
            "to publish: central quarantines unsigned messages."
        ),
    ] = None
    central_key: Annotated[
        Path | None,
        Field(
            description="Central's receipt public key (PEM, the `.pub` beside the key `central run --receipt-key` "
            "names). With it an event stays in the outbox until central's signed receipt says it is stored, and "
            "is sent again until then. Without it an event leaves at the broker's acknowledgement (a warning is "
            "logged), and a broker crash can lose it."
        ),
    ] = None
