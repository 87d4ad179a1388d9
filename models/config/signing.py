"""Which key the edge signs its messages with."""

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
