"""The pipeline's event sink that signs each infraction and puts it, with its evidence, in the outbox; item statuses
go the same way, so receipts and resends cover them too."""

from __future__ import annotations

import logging
from pathlib import Path

from edge.outbox import Outbox
from edge.publisher import Health, Publisher, Signer, encode
from edge.receipts import ReceiptReader
from models.config.camera import CameraConfig
from models.errors import InputError, UnavailableError
from models.infraction import EvidenceRef, InfractionMessage
from models.item_status import ItemStatusMessage
from models.signing import SigningKeyError, load_private_key, load_public_key, sign
from models.topics import evidence_topic, infraction_topic, item_topic

log = logging.getLogger(__name__)


class SigningKeyMissing(InputError, RuntimeError):
    """The camera config names no signing key, and central refuses unsigned messages."""


class NotDelivered(UnavailableError):
    """A replay ended with messages still in its outbox: safe there, but the one who ran it expects them at central,
    so the command says so and exits 3 rather than 0."""

    exit_code = 3


def signer_for(config: CameraConfig) -> Signer:
    if config.signing.key is None:
        raise SigningKeyMissing(
            f"camera {config.camera.id} has no signing.key: make one with "
            f"`curbwatch keys new {config.camera.id} --out keys` and name keys/{config.camera.id}.key in the config"
        )
    key = load_private_key(config.signing.key)
    return lambda message: sign(message, key)


def receipts_for(config: CameraConfig) -> ReceiptReader | None:
    """Reads central's receipts when the config names central's key. Without one the edge still publishes,
    as it did before receipts existed, so an upgraded camera keeps working; the log says what that costs."""
    if config.signing.central_key is None:
        log.warning(
            "camera %s has no signing.central_key: events leave the outbox at the broker's acknowledgement and a "
            "broker crash can lose them; name central's receipt key (.pub) to keep each until central stored it",
            config.camera.id,
        )
        return None
    try:
        key = load_public_key(config.signing.central_key)
    except SigningKeyError as exc:
        raise SigningKeyError(f"signing.central_key: {exc}") from None
    return ReceiptReader(key, config.camera.site, config.camera.id)


def outbox_for(config: CameraConfig) -> Outbox:
    settings = config.outbox
    return Outbox(
        settings.file_for(config.camera.id),
        max_messages=settings.max_messages,
        max_bytes=settings.max_bytes,
        when_full=settings.when_full,
        warn_at=settings.warn_at,
        resend_after_s=settings.resend_after_s,
        resend_max_s=settings.resend_max_s,
    )


class OutboxSink:
    """EventSink: `emit` returns once the event is durable on disk; a publisher thread sends it on."""

    def __init__(self, config: CameraConfig, publish: bool = True) -> None:
        self.config = config
        self.sign = signer_for(config)
        self.outbox = outbox_for(config)
        self.health: Health = dict
        """Figures for the heartbeat (fps, frames, events, model); the pipeline attaches its own."""
        self.publisher: Publisher | None = None
        self.left = 0
        """Messages still in the outbox when it closed (set by `close`)."""
        self.last_error: str | None = None
        """The publisher's last problem when it stopped (set by `close`), e.g. a broker it could not reach."""
        if publish:
            self.publisher = Publisher(
                self.outbox,
                config.mqtt,
                config.camera.site,
                config.camera.id,
                self.sign,
                lambda: self.health(),
                receipts_for(config),
            )
            self.publisher.start()

    def emit(self, message: InfractionMessage, evidence: list[tuple[EvidenceRef, Path]]) -> None:
        site, camera, prefix = self.config.camera.site, self.config.camera.id, self.config.mqtt.prefix
        # Evidence first, in the same transaction: central links it to the event whichever arrives first.
        rows = [
            (evidence_topic(site, camera, ref.sha256, prefix), Path(path).read_bytes(), False) for ref, path in evidence
        ]
        payload = encode(self.sign(message.to_payload()))
        rows.append((infraction_topic(site, camera, prefix), payload, False))
        if not self.outbox.enqueue(str(message.event_id), rows):
            log.error("event %s was not queued: the outbox is full", message.event_id)

    def emit_item(self, status: ItemStatusMessage) -> None:
        site, camera, prefix = self.config.camera.site, self.config.camera.id, self.config.mqtt.prefix
        payload = encode(self.sign(status.to_payload()))
        if not self.outbox.enqueue(str(status.status_id), [(item_topic(site, camera, prefix), payload, False)]):
            log.error("item status %s of event %s was not queued: the outbox is full", status.state, status.event_id)

    def attach_health(self, health: Health) -> None:
        self.health = health

    def close(self, drain_s: float = 5.0) -> None:
        """Give the publisher up to `drain_s` to empty the outbox (receipts included); what remains is sent
        after the next start."""
        if self.publisher is not None:
            self.publisher.wait_drained(drain_s)
            # The run's last figures (a replay shorter than heartbeat_s sent none), which central keeps once the
            # camera is offline.
            self.publisher.send_heartbeat()
            self.publisher.wait_drained(1.0)
            self.publisher.stop()
            self.last_error = self.publisher.last_error
        self.left = self.outbox.depth()
        self.outbox.close()

    def undelivered(self) -> NotDelivered | None:
        """After `close`: what to tell the user when messages stayed behind, or None when all left."""
        if not self.left:
            return None
        why = self.last_error or "not yet taken or receipted by central"
        return NotDelivered(
            f"{self.left} message{'' if self.left == 1 else 's'} not sent ({why}): they wait in the outbox "
            f"{self.outbox.path.resolve()} and are sent at this camera's next start with --publish"
        )
