"""Where frames come from."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator

from models.base import StrictModel

FFMPEG_OPTION_NAME = r"^[a-z][a-z0-9_]{0,63}$"


class SourceConfig(StrictModel):
    uri: Annotated[
        str,
        Field(
            min_length=1, description="A video file, an rtsp:// or http(s):// stream, or a camera index such as '0'."
        ),
    ]
    realtime: Annotated[bool, Field(description="Pace a file replay to the source's frame rate.")] = False
    reconnect_initial_s: Annotated[float, Field(gt=0.0, le=60.0, description="First wait after a stream drops.")] = 1.0
    reconnect_max_s: Annotated[float, Field(gt=0.0, le=600.0, description="Longest wait between reconnects.")] = 30.0
    open_timeout_s: Annotated[
        float, Field(ge=1.0, le=300.0, description="A stream that does not answer within this is down; retried.")
    ] = 20.0
    read_timeout_s: Annotated[
        float,
        Field(
            ge=1.0,
            le=300.0,
            description="A stream that sends no frame for this long, even with its connection open, is dropped and "
            "reconnected with the backoff above. Longer than the camera's longest gap between two frames.",
        ),
    ] = 10.0
    rtsp_transport: Annotated[
        Literal["tcp", "udp"],
        Field(
            description="RTSP over TCP (no lost packets, hence no smeared frames; the usual choice) or UDP (less "
            "delay on a clean network, gaps when packets are lost; a firewall or NAT that drops the camera's UDP "
            "packets looks like a camera that does not answer)."
        ),
    ] = "tcp"
    ffmpeg_options: Annotated[
        dict[str, str],
        Field(
            max_length=16,
            description="Further FFmpeg input options for a stream, name to value (for example buffer_size: "
            "'4096000' for a high bit rate camera over UDP).",
        ),
    ] = {}

    @field_validator("ffmpeg_options")
    @classmethod
    def _plain_options(cls, options: dict[str, str]) -> dict[str, str]:
        for name, value in options.items():
            if not re.match(FFMPEG_OPTION_NAME, name):
                raise ValueError(f"{name!r} is not an FFmpeg option name (lower case letters, digits, _)")
            if name == "rtsp_transport":
                raise ValueError("set rtsp_transport as source.rtsp_transport, not among ffmpeg_options")
            # OpenCV reads the options as 'name;value|name;value': these two characters cannot be passed.
            if any(c in value for c in ";|") or not value.isprintable():
                raise ValueError(f"the value of {name} holds ';', '|' or a control character")
        return options
