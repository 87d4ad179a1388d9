"""Broker connection for publishing."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from models.base import IDENT_PATTERN, StrictModel
from models.topics import DEFAULT_PREFIX


class TlsConfig(StrictModel):
    ca_file: Annotated[Path | None, Field(description="CA bundle that signed the broker's certificate.")] = None
    cert_file: Annotated[Path | None, Field(description="Client certificate, for brokers that require one.")] = None
    key_file: Annotated[Path | None, Field(description="Private key of the client certificate.")] = None
    insecure: Annotated[
        bool, Field(description="Skip the broker host name check (testing only; the chain is still verified).")
    ] = False

    @model_validator(mode="after")
    def _pair(self) -> TlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together")
        return self


class MqttConfig(StrictModel):
    url: Annotated[str, Field(description="mqtt://host:port, or mqtts://host:port for TLS.")] = "mqtt://127.0.0.1:1883"
    prefix: Annotated[
        str, Field(min_length=1, pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$", description="First topic levels.")
    ] = DEFAULT_PREFIX
    heartbeat_s: Annotated[
        float, Field(gt=0.0, le=3600.0, description="Seconds between heartbeats on the retained status topic.")
    ] = 30.0
    tls: Annotated[TlsConfig | None, Field(description="TLS settings; implied (system CAs) by mqtts://.")] = None
    username: Annotated[str | None, Field(min_length=1, max_length=128)] = None
    password_file: Annotated[
        Path | None, Field(description="File whose first line is the broker password (kept out of the config).")
    ] = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600, description="MQTT keepalive; the Last Will fires after 1.5x.")] = (
        30
    )
    client_id: Annotated[
        str | None,
        Field(pattern=IDENT_PATTERN, description="MQTT client id; default `curbwatch-edge-CAMERA_ID`."),
    ] = None
    inflight: Annotated[int, Field(ge=1, le=1000, description="QoS 1 messages awaiting PUBACK at once.")] = 100
    session_expiry_s: Annotated[
        int, Field(ge=0, le=4_294_967_295, description="How long the broker keeps the session while offline.")
    ] = 86_400
    reconnect_min_s: Annotated[
        float, Field(gt=0.0, le=60.0, description="First wait before reconnecting; doubles after each failure.")
    ] = 0.5
    reconnect_max_s: Annotated[float, Field(gt=0.0, le=3600.0, description="Longest wait between reconnections.")] = (
        30.0
    )

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not value.startswith(("mqtt://", "mqtts://")):
            raise ValueError("must start with mqtt:// or mqtts://")
        return value

    @model_validator(mode="after")
    def _auth(self) -> MqttConfig:
        if self.password_file is not None and self.username is None:
            raise ValueError("password_file needs a username")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s is below reconnect_min_s")
        return self
