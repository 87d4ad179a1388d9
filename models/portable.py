"""Numbers in signed messages that a verifier in any language writes back the same way.

A signature covers `models.signing.canonical_json`, Python's spelling of the message. JavaScript (and RFC 8785,
the JSON canonicalisation others implement) spells most numbers alike but not all: Python writes `1e-05` and
`1.0` where they write `0.00001` and `1`. So message floats are kept where the spellings agree: rounded to
`DECIMALS` places at build time (so nothing lies between 0 and 1e-4 but 0), below `LIMIT` in size (beyond 1e16
Python turns to exponents again), and a whole number goes out as an int."""

from __future__ import annotations

from typing import Any

DECIMALS = 4
"""A tenth of a pixel on a 1000-pixel frame, a ten-thousandth of a second or of a confidence."""
LIMIT = 1e15


def portable(value: float) -> float:
    """`value` rounded to DECIMALS places, never -0.0; refuses what no message should carry."""
    if not abs(value) < LIMIT:  # also NaN and the infinities, which JSON cannot carry at all
        raise ValueError(f"{value!r} is too large or not a number for a signed message")
    return round(value, DECIMALS) + 0.0  # + 0.0 turns -0.0 (Python "-0.0", JavaScript "0") into 0.0


def whole_as_int(payload: dict[str, Any]) -> dict[str, Any]:
    """A JSON-ready message with every whole float as an int (`1.0` goes out as `1`), the rest as it was."""
    return {key: _whole_as_int(value) for key, value in payload.items()}


def _whole_as_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return whole_as_int(value)
    if isinstance(value, list | tuple):
        return [_whole_as_int(item) for item in value]
    return value
