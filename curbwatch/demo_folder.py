"""The data folder of `curbwatch demo`: where each part keeps its files, a lock so two demos never share one,
and the record of the videos already replayed into it (a rerun does not queue the same events twice)."""

from __future__ import annotations

import fcntl
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from models.errors import UnavailableError


class FolderBusy(UnavailableError, RuntimeError):
    """Another demo holds the folder."""


class DemoFolder:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.db = self.root / "curbwatch.db"
        self.keys = self.root / "keys"
        """Public keys of the cameras: central's --keys folder."""
        self.camera_keys = self.root / "camera-keys"
        self.central_keys = self.root / "central-keys"
        """Central's receipt key pair: central signs receipts with it, the camera holds the public half."""
        self.edge = self.root / "edge"
        self.broker = self.root / "broker"
        self.logs = self.root / "logs"
        self.replays = self.root / "replays.json"
        self.settings = self.root / "central-settings.yaml"
        """Central's settings for the demo's camera (the zone editor's folders and detector), written at each start."""
        self._lock: IO[str] | None = None

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db}"

    def lock(self) -> None:
        """Hold the folder until the process ends; FolderBusy when another process holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = (self.root / "demo.lock").open("w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise FolderBusy(f"another `curbwatch demo` is using {self.root}; stop it first") from None
        self._lock = handle

    def replayed(self, key: str) -> dict | None:
        return self._replay_log().get(key)

    def record_replay(self, key: str, video: Path, summary: str) -> None:
        log = self._replay_log()
        log[key] = {"video": str(video), "at": datetime.now(UTC).isoformat(timespec="seconds"), "summary": summary}
        self.replays.write_text(json.dumps(log, indent=2), encoding="utf-8")

    def _replay_log(self) -> dict:
        if not self.replays.is_file():
            return {}
        return json.loads(self.replays.read_text(encoding="utf-8"))


def replay_key(video: Path, config_text: str, max_frames: int | None) -> str:
    """Same video bytes, same camera config and same frame limit: the same events."""
    digest = hashlib.sha256()
    with Path(video).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    digest.update(config_text.encode("utf-8"))
    digest.update(str(max_frames).encode("ascii"))
    return digest.hexdigest()
