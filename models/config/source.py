"""Where frames come from."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from models.base import StrictModel


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
