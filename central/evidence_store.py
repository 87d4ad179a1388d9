"""Evidence bytes on disk, content-addressed: `{root}/{sha256[:2]}/{sha256}`."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class EvidenceError(ValueError):
    """Bytes that do not match the digest they were sent under, or a digest that is not one."""


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the bytes of `sha256` live; refuses anything but a digest, so no path escapes the root."""
        if not _SHA256.match(sha256):
            raise EvidenceError(f"{sha256!r} is not a sha256 digest")
        return self.root / sha256[:2] / sha256

    def put(self, sha256: str, data: bytes) -> Path:
        """Store `data` under its digest, atomically; the digest must match the bytes."""
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise EvidenceError(f"evidence bytes hash to {actual}, not {sha256}")
        target = self.path(sha256)
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
        return target

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> bool:
        """Remove the bytes; True when something was removed."""
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True
