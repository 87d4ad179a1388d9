"""Receipts: after each commit, one signed message per camera naming every infraction and evidence message
of the batch that central now holds (new, or absorbed as a duplicate) or quarantined, so the camera can
release them from its outbox. Status messages get none: the edge does not wait for them.

The key is central's own receipt key (`central run --receipt-key`), not the checkpoint key: every ingest
worker needs it online and every camera holds its public half, while the checkpoint key vouches for the
ledger and is rotated on its own schedule; a leak of one must not give away the other."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.store import Quarantine
from central.verify import Accepted
from models.receipt import QuarantinedRef, ReceiptMessage
from models.signing import sign
from models.topics import DEFAULT_PREFIX, TopicError, parse_topic, receipt_topic


@dataclass(frozen=True)
class ReceiptSigner:
    key: Ed25519PrivateKey
    prefix: str = DEFAULT_PREFIX

    def receipts(
        self, messages: Sequence[tuple[str, bytes]], outcomes: Sequence[Accepted | Quarantine], now: datetime
    ) -> list[tuple[str, dict]]:
        """(topic, signed receipt) per camera for a committed batch: `messages` are its (topic, payload) pairs
        as received and `outcomes` what became of each. A message whose topic names no camera gets none:
        there is nobody to send it to."""
        by_camera: dict[tuple[str, str], ReceiptMessage] = {}
        for (topic_name, payload), outcome in zip(messages, outcomes, strict=True):
            try:
                topic = parse_topic(topic_name, self.prefix)
            except TopicError:
                continue
            if topic.kind == "status":
                continue
            receipt = by_camera.setdefault(
                (topic.site, topic.camera), ReceiptMessage(site=topic.site, camera_id=topic.camera, at=now)
            )
            payload_digest = hashlib.sha256(payload).hexdigest()
            if isinstance(outcome, Quarantine):
                receipt.quarantined.append(QuarantinedRef(sha256=payload_digest, reason=outcome.reason[:500]))
            else:
                receipt.stored.append(payload_digest)
        return [
            (receipt_topic(site, camera, self.prefix), sign(receipt.to_payload(), self.key))
            for (site, camera), receipt in by_camera.items()
        ]
