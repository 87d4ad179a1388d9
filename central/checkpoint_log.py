"""The checkpoint folder, beside central's settings and never in the database: the Ed25519 key that signs
checkpoints (exactly one KEY_ID.key), the public keys that verify them (KEY_ID.pub, retired ones kept so old
checkpoints still verify), the append-only log of signed checkpoints that auditors collect, and LEDGER_ID: the
id of the one ledger (database) the folder signs for, written at its first checkpoint. A folder refuses to
sign for, or be checked against, another database: two databases sharing one log would otherwise read each
other's checkpoints as claims about themselves and cry tamper. Keys are made and read with models.signing,
like the cameras' keys."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from central import checkpoint
from central.chain_store import Head, on_commit
from central.ledger_identity import LedgerIdentity
from models.signing import SigningKeyError, generate_keypair, load_private_key, load_public_keys

log = logging.getLogger(__name__)

LOG_NAME = "checkpoints.jsonl"
IDENTITY_NAME = "LEDGER_ID"


class FolderOfAnotherLedger(Exception):
    """A checkpoint folder (or log) that records another ledger than the database's."""

    def __init__(self, where: Path, owner: str, ledger: str) -> None:
        super().__init__(
            f"checkpoint folder {where} belongs to ledger {owner}, and this database is ledger {ledger}: its "
            "checkpoints say nothing about this database, so it is not used with it. Give this database a "
            "checkpoint folder of its own (another --data-dir, or checkpoint_dir in the settings), or use this "
            f"folder with the database of ledger {owner}"
        )
        self.owner, self.ledger = owner, ledger


def ledger_id(session: Session) -> str:
    """The database's ledger id (made by migration 0008)."""
    found = session.scalar(select(LedgerIdentity.ledger_id).where(LedgerIdentity.id == 1))
    if found is None:
        raise LookupError("the database has no ledger id; run `curbwatch central migrate`")
    return found


@dataclass(frozen=True)
class CheckpointFolder:
    path: Path

    @property
    def log(self) -> Path:
        return self.path / LOG_NAME

    @property
    def identity(self) -> Path:
        return self.path / IDENTITY_NAME

    def owner(self) -> str | None:
        """The ledger id the folder signs for; None before its first checkpoint (or for a folder from before
        ledger ids, which the next checkpoint adopts)."""
        try:
            return self.identity.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def check(self, ledger: str) -> None:
        """Raise FolderOfAnotherLedger when the folder belongs to another ledger than `ledger`."""
        owner = self.owner()
        if owner is not None and owner != ledger:
            raise FolderOfAnotherLedger(self.path, owner, ledger)

    def claim(self, ledger: str) -> None:
        """Record `ledger` as the folder's ledger unless it records one already (which must be `ledger`). A
        folder that already holds a log without an id (written before ledger ids) is adopted, with a warning."""
        self.check(ledger)
        if self.owner() is not None:
            return
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(self.identity, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:  # another worker claimed it at the same moment
            self.check(ledger)
            return
        try:
            os.write(fd, f"{ledger}\n".encode())
        finally:
            os.close(fd)
        if self.log.exists():
            log.warning(
                "checkpoint folder %s held checkpoints from before ledger ids: it now belongs to ledger %s",
                self.path.resolve(),
                ledger,
            )

    def _private_keys(self) -> list[Path]:
        return sorted(self.path.glob("*.key"))

    def new_key(self, now: datetime) -> str:
        """Make a key pair named after `now`; returns its key id. The folder is made private to its owner."""
        key_id = f"checkpoint-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        private_path, public_path = generate_keypair(key_id, self.path)
        log.warning(
            "made checkpoint signing key %s; give %s to the auditors with the checkpoint log %s",
            private_path.resolve(),
            public_path.resolve(),
            self.log.resolve(),
        )
        return key_id

    def signing_key(self, now: datetime) -> tuple[str, Ed25519PrivateKey]:
        """(key id, key) of the one private key in the folder; made at first use, so a fresh install signs
        from its first ledger change."""
        if not self._private_keys():
            # Another worker may make the first key at the same moment: then use that one.
            with suppress(SigningKeyError, FileExistsError):
                self.new_key(now)
        keys = self._private_keys()
        if len(keys) != 1:
            names = ", ".join(path.name for path in keys) or "none"
            raise SigningKeyError(f"{self.path} must hold exactly one checkpoint signing key (*.key), it holds {names}")
        return keys[0].stem, load_private_key(keys[0])

    def rotate(self, now: datetime) -> tuple[str, list[str]]:
        """Make a new signing key and delete the private part of the old ones, keeping their public keys so
        old checkpoints still verify. Returns (new key id, retired key ids)."""
        retired = self._private_keys()
        key_id = self.new_key(now)
        for path in retired:
            path.unlink()
        return key_id, [path.stem for path in retired]

    def trusted_keys(self) -> dict[str, Ed25519PublicKey]:
        """Every public key in the folder, by key id; none when the folder does not exist."""
        return load_public_keys(self.path) if self.path.is_dir() else {}

    def append(self, heads: Iterable[Head], now: datetime, ledger: str) -> int:
        """Sign a checkpoint of each head of ledger `ledger` and append them to the log; returns how many were
        written. Refuses (FolderOfAnotherLedger) a folder that belongs to another ledger."""
        self.claim(ledger)
        key_id, key = self.signing_key(now)
        lines = [
            json.dumps(checkpoint.signed(h.chain, h.seq, h.hash, now, key_id, key, ledger), sort_keys=True) + "\n"
            for h in heads
        ]
        data = "".join(lines).encode()
        # One write on an O_APPEND file: lines of workers appending at once never interleave.
        fd = os.open(self.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, data)
        finally:
            os.close(fd)
        if written != len(data):
            raise OSError(f"short write to {self.log}: {written} of {len(data)} bytes")
        return len(lines)


def read_lines(path: Path) -> list[str] | None:
    """The lines of a checkpoint log (central's, or an auditor's copy); None when there is no such file."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None


def _write(folder: CheckpointFolder, ledger: str, heads: list[Head]) -> None:
    try:
        folder.append(heads, datetime.now(UTC), ledger)
    except (OSError, SigningKeyError, FolderOfAnotherLedger) as exc:
        # The transaction has committed; failing the caller now would not undo it. The next checkpoint
        # covers these entries too.
        log.error("no checkpoint written to %s for %d chain entries: %s", folder.log, len(heads), exc)


def watch(session: Session, folder: Path) -> None:
    """Sign a checkpoint of every ledger and audit entry the session's transaction appends, once it commits."""
    on_commit(session, partial(_write, CheckpointFolder(folder), ledger_id(session)))
