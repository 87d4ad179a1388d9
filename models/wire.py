"""The types and envelope every signed message shares (infraction, item status, receipt, status).

A wire value means what its schema says, whoever wrote it: a time is an ISO 8601 string with a zone (never a
number of seconds), a number is a JSON number (never `true`, never a string, never NaN, infinity or beyond what
models.portable lets a message carry), a flag is `true` or `false`, an id matches its pattern. The edge builds
these models from Python objects (datetime, uuid.UUID, numpy numbers), which stay accepted; what is refused is
the coercion pydantic would otherwise apply to a received JSON value."""

from __future__ import annotations

import numbers
import re
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, ConfigDict, Field, PlainSerializer, StrictBool

from models.base import StrictModel
from models.portable import LIMIT

_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_WHOLE = 2**53
"""Whole numbers past this are not exact in JavaScript (and so in a browser showing them)."""


def utc_iso(value: datetime) -> str:
    """ISO 8601 in UTC with a trailing Z, the one spelling every message uses."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _iso_time(value: Any) -> Any:
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_TIME.fullmatch(value)):
        return value
    raise ValueError("must be an ISO 8601 time with a zone, such as 2024-05-01T12:00:00Z")


def _uuid(value: Any) -> Any:
    if isinstance(value, uuid.UUID) or (isinstance(value, str) and _UUID.fullmatch(value)):
        return value
    raise ValueError("must be a UUID in lowercase 8-4-4-4-12 form")


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError("must be a JSON number")
    return value


def _scalar(value: Any) -> Any:
    if isinstance(value, float) and not abs(value) < LIMIT:
        raise ValueError("must be a finite JSON number below 1e15")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_WHOLE:
        raise ValueError("must be a whole number below 2**53")
    return value


def _whole(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError("must be a whole JSON number")
    return value


Time = Annotated[
    AwareDatetime,
    BeforeValidator(_iso_time),
    AfterValidator(lambda value: value.astimezone(UTC)),
    PlainSerializer(utc_iso, return_type=str),
]
"""A moment, held in UTC and written with a trailing Z."""
Uuid = Annotated[uuid.UUID, BeforeValidator(_uuid), PlainSerializer(str, return_type=str)]
Number = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False, gt=-LIMIT, lt=LIMIT)]
Whole = Annotated[int, BeforeValidator(_whole), Field(ge=-MAX_WHOLE, le=MAX_WHOLE)]
Flag = StrictBool
Unit = Annotated[Number, Field(ge=0.0, le=1.0)]
"""A ratio, a score or a coordinate normalised to the frame."""
Amount = Annotated[Number, Field(ge=0.0)]
"""A quantity that cannot be negative: seconds, a rate."""
Seconds = Amount
Count = Annotated[Whole, Field(ge=0)]
Scalar = Annotated[float | int | str | bool | None, BeforeValidator(_scalar)]
"""A rule's threshold or measurement: each keeps its JSON type (a flag stays a flag), numbers in range."""
Signature = Annotated[str | None, Field(pattern=r"^[A-Za-z0-9+/]+={0,2}$", max_length=128)]


class WireModel(StrictModel):
    """A message as it travels: `schema` spelt as the JSON key, no NaN or infinity anywhere."""

    model_config = StrictModel.model_config | ConfigDict(populate_by_name=True, allow_inf_nan=False)
