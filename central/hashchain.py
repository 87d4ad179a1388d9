"""Hash chains for append-only logs (ledger, audit): pure functions, tested on hand-written data.

Each record holds `seq` (1, 2, 3, ... without gaps), the hash of the record before it (`prev_hash`, the
genesis value for the first) and its own `hash` = sha256(prev_hash + canonical JSON of its fields, seq
included). Editing a field breaks that record's hash; removing a record leaves a gap in `seq` and a
`prev_hash` that no longer matches; reordering breaks both. Removing the newest records leaves a valid
shorter chain: compare the head hash with one noted elsewhere to catch that."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from central.timeutil import iso_z

GENESIS = "0" * 64


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_z(value)
    raise TypeError(f"cannot hash a {type(value).__name__}")


def canonical(fields: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, times as UTC text: the same fields give the same text on every database."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=_canonical_value)


def link_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(fields)).encode()).hexdigest()


@dataclass(frozen=True)
class ChainRecord:
    """One record as read back: `fields` are everything hashed (seq among them)."""

    seq: int
    fields: Mapping[str, Any]
    prev_hash: str
    hash: str


def verify(records: Sequence[ChainRecord], label: str = "entry") -> list[str]:
    """Every problem found, in chain order; an empty list means the chain is intact. `records` must be in
    the order the database returns them by `seq`."""
    problems: list[str] = []
    expected_seq = 1
    prev_hash = GENESIS
    for record in records:
        if record.seq != expected_seq:
            if record.seq > expected_seq:
                missing = f"{expected_seq}" if record.seq == expected_seq + 1 else f"{expected_seq}-{record.seq - 1}"
                problems.append(f"{label} {missing} missing: the chain jumps from {expected_seq - 1} to {record.seq}")
            else:
                problems.append(f"{label} {record.seq} out of order: expected {expected_seq}")
        if record.prev_hash != prev_hash:
            problems.append(
                f"{label} {record.seq}: does not follow the {label} before it (previous hash differs: removed, "
                "inserted or reordered entries)"
            )
        if link_hash(record.prev_hash, record.fields) != record.hash:
            problems.append(f"{label} {record.seq}: contents were edited (its hash does not match its fields)")
        if record.seq >= expected_seq:
            expected_seq = record.seq + 1
        prev_hash = record.hash
    return problems
