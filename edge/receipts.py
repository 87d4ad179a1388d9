"""Reading central's receipts on the edge: only a receipt that central's key signed, for this camera,
releases anything from the outbox. Anything else on the receipt topic is logged and ignored, so a
forged receipt can at worst be noticed, never make the edge forget an event."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from models.receipt import MAX_RECEIPT_BYTES, ReceiptMessage
from models.signing import verify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceiptReader:
    central_key: Ed25519PublicKey
    site: str
    camera_id: str

    def read(self, payload: bytes) -> ReceiptMessage | None:
        """The receipt in `payload`, or None (with a warning in the log) when it is not one central signed
        for this camera."""
        parsed = self._parse(payload)
        if isinstance(parsed, ReceiptMessage):
            return parsed
        log.warning("ignored a receipt for %s/%s: %s", self.site, self.camera_id, parsed)
        return None

    def _parse(self, payload: bytes) -> ReceiptMessage | str:
        """The receipt, or what is wrong with it."""
        if len(payload) > MAX_RECEIPT_BYTES:
            return f"{len(payload)} bytes, more than {MAX_RECEIPT_BYTES}"
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return "not JSON"
        if not isinstance(data, dict):
            return "not a JSON object"
        # The signature first: nothing an unknown sender wrote is worth validating further.
        if not verify(data, self.central_key):
            return "unsigned or not signed by central's key (signing.central_key): possibly forged"
        try:
            receipt = ReceiptMessage.model_validate(data)
        except ValidationError as exc:
            return f"not a valid receipt: {exc.errors()[0]['msg']}"
        if (receipt.site, receipt.camera_id) != (self.site, self.camera_id):
            return f"addressed to {receipt.site}/{receipt.camera_id}"
        return receipt
