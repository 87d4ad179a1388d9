"""Redaction of people in evidence, on by default (DESIGN.md section 6)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from models.base import StrictModel


class RedactionConfig(StrictModel):
    mode: Annotated[
        Literal["person", "head", "off"],
        Field(
            description="'person' pixelates the whole box, 'head' the head region; 'off' marks events redacted: false."
        ),
    ] = "person"
    block_px: Annotated[int, Field(ge=4, le=64, description="Pixelation block size in pixels.")] = 12
