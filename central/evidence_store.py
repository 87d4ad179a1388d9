"""Evidence bytes, content-addressed by sha256, behind one interface: a local folder (the default) or an
S3-compatible bucket (central/object_store.py) that several central hosts share.

Every implementation keeps the same layout, `{sha256[:2]}/{sha256}`, verifies the digest before storing and
treats a second upload of the same bytes as done."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from models.base import SHA256_PATTERN
from models.errors import InputError, UnavailableError

_SHA256 = re.compile(SHA256_PATTERN)
CHUNK_BYTES = 64 * 1024


class EvidenceError(InputError, ValueError):
    """Bytes that do not match the digest they were sent under, or a digest that is not one."""


class EvidenceUnavailable(UnavailableError):
    """The store cannot be reached or refuses the request right now; nothing was lost, ask again later."""


def key_of(sha256: str) -> str:
    """`{sha256[:2]}/{sha256}`; refuses anything but a digest, so no key escapes the store's root."""
    # fullmatch: `$` alone would let a digest followed by a newline through, into a key and a file name.
    if not _SHA256.fullmatch(sha256):
        raise EvidenceError(f"{sha256!r} is not a sha256 digest")
    return f"{sha256[:2]}/{sha256}"


class EvidenceStore(ABC):
    """Where evidence bytes live. Methods raise EvidenceError for a bad digest and EvidenceUnavailable when the
    storage behind them cannot answer."""

    def put(self, sha256: str, data: bytes) -> None:
        """Store `data` under its digest; the digest must match the bytes. Storing the same bytes again is a
        no-op, so a redelivered message or a second worker costs nothing."""
        key = key_of(sha256)
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise EvidenceError(f"evidence bytes hash to {actual}, not {sha256}")
        if not self.exists(sha256):
            self._write(key, data)

    def exists(self, sha256: str) -> bool:
        return self.size(sha256) is not None

    @abstractmethod
    def _write(self, key: str, data: bytes) -> None:
        """Write verified bytes under `key`, atomically: a reader sees all of them or none."""

    @abstractmethod
    def size(self, sha256: str) -> int | None:
        """The stored length in bytes, or None when nothing is stored under `sha256`."""

    @abstractmethod
    def read(self, sha256: str, start: int, stop: int) -> Iterator[bytes]:
        """Bytes `start` to `stop` (exclusive) in chunks."""

    @abstractmethod
    def delete(self, sha256: str) -> bool:
        """Remove the bytes; True when something was removed."""

    @abstractmethod
    def describe(self) -> str:
        """Where the evidence lives, for logs; never a credential."""


class FolderEvidenceStore(EvidenceStore):
    """Files on a local disk: `{root}/{sha256[:2]}/{sha256}`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        return self.root / key_of(sha256)

    def _write(self, key: str, data: bytes) -> None:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def read(self, sha256: str, start: int, stop: int) -> Iterator[bytes]:
        with self.path(sha256).open("rb") as handle:
            handle.seek(start)
            left = stop - start
            while left > 0:
                chunk = handle.read(min(CHUNK_BYTES, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk

    def delete(self, sha256: str) -> bool:
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def describe(self) -> str:
        return f"folder {self.root}"
