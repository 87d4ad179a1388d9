"""Subject references: opaque ids a reviewer types under the site's policy (a ticket or case number), never
derived from images. Checked for shape only, so that names, e-mail addresses and free text stay out."""

from __future__ import annotations

import re

from central.review.errors import ReviewError

MAX_LENGTH = 64
"""The column's width: a site's pattern may be stricter, never longer."""


def validate_subject_ref(value: str, pattern: str) -> str:
    """`value` unchanged when it matches `pattern` in full, else ReviewError saying what is allowed."""
    if len(value) > MAX_LENGTH or not re.fullmatch(pattern, value):
        raise ReviewError(
            f"subject reference {value!r} is not allowed: it must match {pattern} in at most {MAX_LENGTH} characters "
            "(an opaque id such as a case number; no names, spaces or e-mail addresses)"
        )
    return value
