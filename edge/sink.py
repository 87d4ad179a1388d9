"""Where finished infraction messages, and the statuses of littering items followed after their events, go. The
JSONL sink writes each message exactly as the MQTT payload would carry it; the MQTT outbox/publisher implements
the same protocol."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TextIO

from models.infraction import EvidenceRef, InfractionMessage
from models.item_status import ItemStatusMessage

if TYPE_CHECKING:
    from edge.publisher import Health


class EventSink(Protocol):
    def emit(self, message: InfractionMessage, evidence: list[tuple[EvidenceRef, Path]]) -> None: ...

    def emit_item(self, status: ItemStatusMessage) -> None: ...

    def attach_health(self, health: Health) -> None:
        """The pipeline feeding this sink gives it its live figures, for a sink that sends heartbeats."""
        ...

    def close(self) -> None: ...


def items_path(events: Path) -> Path:
    """Where a JSON-lines file of infractions keeps its item statuses: beside it, `NAME.items.jsonl`, so the
    events file stays one infraction a line for whatever reads it."""
    return events.with_name(f"{events.stem}.items.jsonl")


class JsonlSink:
    """One JSON object per line, `message.to_payload()`, flushed per event so a crash loses nothing written. Item
    statuses go to `items_path(path)`, opened when the first one comes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if self.path.parent != Path(""):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("a", encoding="utf-8")
        self._items: TextIO | None = None

    def emit(self, message: InfractionMessage, evidence: list[tuple[EvidenceRef, Path]]) -> None:
        _write_line(self._handle, message.to_payload())

    def emit_item(self, status: ItemStatusMessage) -> None:
        if self._items is None:
            self._items = items_path(self.path).open("a", encoding="utf-8")
        _write_line(self._items, status.to_payload())

    def attach_health(self, health: Health) -> None:
        pass  # a file has no heartbeat

    def close(self) -> None:
        self._handle.close()
        if self._items is not None:
            self._items.close()


def _write_line(handle: TextIO, payload: dict) -> None:
    handle.write(json.dumps(payload, separators=(",", ":")) + "\n")
    handle.flush()


class MemorySink:
    """Keeps the messages in a list (scoring and benchmarks read them back) and, by event id, the evidence
    files each one references (the replay report embeds its keyframes)."""

    def __init__(self) -> None:
        self.messages: list[InfractionMessage] = []
        self.evidence: dict[uuid.UUID, list[tuple[EvidenceRef, Path]]] = {}
        self.items: list[ItemStatusMessage] = []

    def emit(self, message: InfractionMessage, evidence: list[tuple[EvidenceRef, Path]]) -> None:
        self.messages.append(message)
        self.evidence[message.event_id] = list(evidence)

    def emit_item(self, status: ItemStatusMessage) -> None:
        self.items.append(status)

    def attach_health(self, health: Health) -> None:
        pass  # a list has no heartbeat

    def close(self) -> None:
        pass
