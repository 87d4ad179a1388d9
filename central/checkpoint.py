"""Signed checkpoints of a hash chain's head: pure functions, no files and no database.

A checkpoint says "entry `seq` of chain `chain` had hash `hash`", signed with an Ed25519 key kept outside
the database (models/signing.py's format). The chain alone cannot show an edit whose author recomputed
every hash after it, nor the removal of the newest entries; a checkpoint noted before the edit can, because
nobody without the key can sign the recomputed head. A checkpoint at `seq` vouches for every entry up to
it, since each hash covers the one before."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from central.hashchain import GENESIS, ChainRecord, link_hash
from central.timeutil import iso_z
from models.signing import sign, verify

SCHEMA = "curbwatch.checkpoint/2"
FIELDS = {"schema", "chain", "seq", "hash", "at", "key_id", "ledger", "signature"}
"""/2 names the ledger (the database's ledger id) the checkpoint is about; /1, written before ledgers had ids,
does not, and is still read."""
SCHEMA_V1 = "curbwatch.checkpoint/1"
FIELDS_V1 = FIELDS - {"ledger"}


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint whose signature verified; `line` is its line number in the log it came from."""

    chain: str
    seq: int
    hash: str
    at: str
    key_id: str
    line: int
    ledger: str | None = None
    """The ledger id it names; None for a /1 checkpoint."""

    def describe(self) -> str:
        return f"checkpoint line {self.line} ({self.at}, key {self.key_id})"


@dataclass(frozen=True)
class LogProblem:
    """A log line that vouches for nothing; `chain` is None when the line does not say which chain."""

    chain: str | None
    message: str


def signed(
    chain: str, seq: int, head_hash: str, at: datetime, key_id: str, key: Ed25519PrivateKey, ledger: str | None = None
) -> dict:
    """The checkpoint record for entry `seq` with hash `head_hash` of ledger `ledger`, signed by `key` (named
    `key_id`); without a ledger id, a /1 record as written before ledgers had one."""
    record = {"schema": SCHEMA_V1, "chain": chain, "seq": seq, "hash": head_hash, "at": iso_z(at), "key_id": key_id}
    if ledger is not None:
        record |= {"schema": SCHEMA, "ledger": ledger}
    return sign(record, key)


def _well_formed(record: object) -> bool:
    if not isinstance(record, dict):
        return False
    if record.get("schema") == SCHEMA:
        return set(record) == FIELDS and isinstance(record["ledger"], str) and _is_seq(record)
    return record.get("schema") == SCHEMA_V1 and set(record) == FIELDS_V1 and _is_seq(record)


def parse(lines: Iterable[str], keys: Mapping[str, Ed25519PublicKey]) -> tuple[list[Checkpoint], list[LogProblem]]:
    """The checkpoints in a log's lines whose signature one of `keys` (by key id) verifies, and one problem per
    line that is malformed, unsigned, signed by an unknown key or not signed by the key it names."""
    checkpoints: list[Checkpoint] = []
    problems: list[LogProblem] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            problems.append(LogProblem(None, f"checkpoint line {number}: not JSON"))
            continue
        if not _well_formed(record):
            problems.append(LogProblem(None, f"checkpoint line {number}: not a {SCHEMA} record"))
            continue
        chain, key_id = str(record["chain"]), str(record["key_id"])
        if key_id not in keys:
            problems.append(LogProblem(chain, f"checkpoint line {number}: signed by key {key_id!r}, not a trusted key"))
        elif not verify(record, keys[key_id]):
            problems.append(LogProblem(chain, f"checkpoint line {number}: its signature does not verify (forged)"))
        else:
            checkpoints.append(
                Checkpoint(
                    chain, record["seq"], str(record["hash"]), str(record["at"]), key_id, number, record.get("ledger")
                )
            )
    return checkpoints, problems


def _is_seq(record: dict) -> bool:
    seq = record["seq"]
    return isinstance(seq, int) and not isinstance(seq, bool) and seq >= 1


def _span(first: int, last: int) -> str:
    return f"{first}" if first == last else f"{first}-{last}"


def compare(records: Sequence[ChainRecord], checkpoints: Iterable[Checkpoint], label: str = "entry") -> list[str]:
    """Problems between the stored chain (`records`, in seq order) and the checkpoints of that chain: entries
    changed since a checkpoint signed them (also when the chain after them was recomputed) and entries
    signed once but gone. An entry is named exactly when the checkpoint before it is for the entry before
    it; otherwise the span between two checkpoints is named. Problems the chain shows by itself (an edit
    without recomputing, a gap) are left to `hashchain.verify`."""
    stored = {record.seq: record for record in records}
    by_seq: dict[int, Checkpoint] = {}
    problems: list[str] = []
    for checkpoint in sorted(checkpoints, key=lambda c: (c.seq, c.line)):
        first = by_seq.setdefault(checkpoint.seq, checkpoint)
        if first.hash != checkpoint.hash:
            problems.append(
                f"{label} {checkpoint.seq}: checkpoint lines {first.line} and {checkpoint.line} sign different "
                "hashes (someone else holds the signing key)"
            )
    newest = max(stored, default=0)
    signed_seqs = sorted(by_seq)
    if signed_seqs and signed_seqs[-1] > newest:
        top = by_seq[signed_seqs[-1]]
        problems.append(
            f"{label} {_span(newest + 1, top.seq)} missing: {top.describe()} signed {top.seq} entries, the "
            f"database holds {newest}: the newest were deleted"
        )
    prev_seq, prev_hash, prev_intact = 0, GENESIS, True
    for seq in (s for s in signed_seqs if s <= newest):
        checkpoint, record = by_seq[seq], stored.get(seq)
        intact = record is not None and record.hash == checkpoint.hash
        if record is not None and not intact:
            if seq == prev_seq + 1:
                if link_hash(prev_hash, record.fields) != checkpoint.hash:
                    problems.append(
                        f"{label} {seq}: changed since {checkpoint.describe()} signed it (its contents no longer "
                        "give the signed hash)"
                    )
            elif prev_intact:
                problems.append(
                    f"{label} {_span(prev_seq + 1, seq)}: at least one was changed since {checkpoint.describe()} "
                    f"signed {label} {seq} (no checkpoint signs each of them)"
                )
        prev_seq, prev_hash, prev_intact = seq, checkpoint.hash, intact
    return problems


def newest(checkpoints: Iterable[Checkpoint]) -> Checkpoint | None:
    """The checkpoint that signs the most entries (the earliest line of those)."""
    return min(checkpoints, key=lambda c: (-c.seq, c.line), default=None)
