"""Broker connection for publishing."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from models.base import StrictModel
from models.topics import DEFAULT_PREFIX


class MqttConfig(StrictModel):
    url: Annotated[str, Field(description="mqtt://host:port, or mqtts://host:port for TLS.")] = "mqtt://127.0.0.1:1883"
    prefix: Annotated[
        str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$", description="First topic levels.")
    ] = DEFAULT_PREFIX
    heartbeat_s: Annotated[float, Field(gt=0.0, le=3600.0, description="Seconds between status heartbeats.")] = 30.0

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("must start with mqtt:// or mqtts://")
        return value
