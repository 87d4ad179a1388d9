"""HTTP byte ranges (RFC 9110 section 14) over any evidence store: browsers play a clip by asking for parts of
it, and an object store answers each part with a ranged GET of its own, so no file has to be local."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from fastapi import HTTPException
from fastapi.responses import StreamingResponse

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, stop) of the bytes a Range header asks for, stop exclusive; None for the whole file (no Range,
    or a unit other than bytes, which a server ignores). Several ranges are answered as the one range that
    covers them all, as RFC 9110 allows: browsers ask for one at a time anyway. Raises 400 for a malformed
    header and 416 when no range overlaps the file."""
    if header is None:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    starts, stops = [], []
    for spec in specs.split(","):
        match = _SPEC.fullmatch(spec)
        if match is None or match.groups() == ("", ""):
            raise HTTPException(400, "malformed Range header")
        first, last = match.groups()
        if first == "":  # a suffix: the last N bytes
            start, stop = max(0, size - int(last)), size
        else:
            start, stop = int(first), size if last == "" else min(size, int(last) + 1)
            if last != "" and int(last) < start:
                raise HTTPException(400, "malformed Range header")
        if start < stop:
            starts.append(start)
            stops.append(stop)
    if not starts:
        raise HTTPException(416, "the range lies outside the evidence", headers={"Content-Range": f"bytes */{size}"})
    return min(starts), max(stops)


def ranged_response(
    read: Callable[[int, int], Iterator[bytes]],
    size: int,
    span: tuple[int, int] | None,
    media_type: str,
    headers: dict[str, str],
) -> StreamingResponse:
    """200 with every byte, or 206 with `span`; `read(start, stop)` yields those bytes."""
    start, stop = span or (0, size)
    fields = {**headers, "Accept-Ranges": "bytes", "Content-Length": str(stop - start)}
    if span is not None:
        fields["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    return StreamingResponse(read(start, stop), status_code=206 if span else 200, media_type=media_type, headers=fields)
