"""Where finished infraction messages go. The JSONL sink writes each message exactly as the MQTT payload
would carry it; the MQTT outbox/publisher implements the same protocol."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Protocol

from models.infraction import EvidenceRef, InfractionMessage


class EventSink(Protocol):
    def emit(self, message: InfractionMessage, evidence: list[tuple[EvidenceRef, Path]]) -> None: ...

    def close(self) -> None: ...


class JsonlSink:
    """One JSON object per line, `message.to_payload()`, flushed per event so a crash loses nothing written."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.parent != Path(""):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("a", encoding="utf-8")

    def emit(self, message: InfractionMessage, evidence: list[tuple[EvidenceRef, Path]]) -> None:
        self._handle.write(json.dumps(message.to_payload(), separators=(",", ":")) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


class MemorySink:
    """Keeps the messages in a list (scoring and benchmarks read them back) and, by event id, the evidence
    files each one references (the replay report embeds its keyframes)."""

    def __init__(self) -> None:
        self.messages: list[InfractionMessage] = []
        self.evidence: dict[uuid.UUID, list[tuple[EvidenceRef, Path]]] = {}

    def emit(self, message: InfractionMessage, evidence: list[tuple[EvidenceRef, Path]]) -> None:
        self.messages.append(message)
        self.evidence[message.event_id] = list(evidence)

    def close(self) -> None:
        pass
