"""The ingest worker: a persistent MQTT 5 session on a shared subscription, manual acknowledgement.

paho's network thread only queues what arrives. The main loop verifies a batch, commits it in one
transaction, and only then sends each camera its signed receipt (central/receipts.py) and the PUBACKs, in
arrival order: a worker killed at any point leaves every uncommitted message unacknowledged and
unreceipted, and the broker, or failing that the camera, delivers it again."""

from __future__ import annotations

import json
import logging
import queue
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from central.db import make_engine, session_factory, transaction
from central.db_outage import first_line, is_unavailable
from central.evidence_store import EvidenceStore, EvidenceUnavailable, FolderEvidenceStore
from central.receipts import ReceiptSigner
from central.store import Quarantine, write_batch
from central.verify import Accepted, Refused, Verifier
from common.mqtt_client import make_client
from models.config.mqtt import MqttConfig
from models.errors import UnavailableError
from models.topics import is_receipt_topic, subscription

log = logging.getLogger(__name__)


class NotMigrated(UnavailableError, RuntimeError):
    """The database has no ingest tables yet."""


@dataclass(frozen=True)
class Received:
    mid: int
    qos: int
    topic: str
    payload: bytes
    epoch: int
    """Which connection delivered it: a PUBACK only makes sense on that same connection."""


def _unavailable(error: Exception) -> str:
    if isinstance(error, EvidenceUnavailable):
        return f"evidence store unavailable ({error})"
    return f"database unavailable ({first_line(error)})"


class IngestWorker:
    def __init__(
        self,
        db_url: str,
        broker: MqttConfig,
        verifier: Verifier,
        data_dir: Path,
        client_id: str,
        share_group: str | None = "central",
        batch_max: int = 500,
        batch_wait_s: float = 0.01,
        evidence: EvidenceStore | None = None,
        receipts: ReceiptSigner | None = None,
    ) -> None:
        self.engine = make_engine(db_url)
        if "infractions" not in inspect(self.engine).get_table_names():
            raise NotMigrated("the database has no ingest tables: run `curbwatch central migrate --db URL` first")
        self.factory = session_factory(self.engine)
        self.blobs = evidence or FolderEvidenceStore(Path(data_dir) / "evidence")
        self.verifier, self.batch_max, self.batch_wait_s = verifier, batch_max, batch_wait_s
        self.topic_filter = subscription(broker.prefix, share_group or None)
        self.prefix, self.receipts = broker.prefix, receipts
        self.counts: Counter = Counter()
        self.stop = threading.Event()
        self._inbox: queue.Queue[Received] = queue.Queue()
        self._epoch = 0
        self._epoch_lock = threading.Lock()
        self.client, self._connect_args = make_client(client_id, broker)
        self.client.manual_ack_set(True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect_fail = lambda *_: log.warning("cannot reach the broker at %s; retrying", broker.url)

    def _on_connect(self, client, _userdata, flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        log.info("connected (session present: %s); subscribing to %s", flags.session_present, self.topic_filter)
        client.subscribe(self.topic_filter, qos=1)

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        if any(code.is_failure for code in reason_codes):
            log.error("the broker refused the subscription to %s: %s", self.topic_filter, reason_codes[0])
        else:
            log.info("subscribed to %s", self.topic_filter)

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        with self._epoch_lock:
            self._epoch += 1
        if not self.stop.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        with self._epoch_lock:
            epoch = self._epoch
        self._inbox.put(Received(message.mid, message.qos, message.topic, bytes(message.payload), epoch))

    def _next_batch(self) -> list[Received]:
        try:
            batch = [self._inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.batch_wait_s
        while len(batch) < self.batch_max:
            try:
                batch.append(self._inbox.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                break
        return batch

    def _check(self, item: Received) -> Accepted | Quarantine:
        try:
            return self.verifier.check(item.topic, item.payload)
        except Refused as refused:
            return Quarantine(item.topic, item.payload, refused.reason, refused.camera_id)
        except Exception as exc:  # a checker bug must cost one message, not the worker
            log.exception("checking a message on %s failed", item.topic)
            return Quarantine(item.topic, item.payload, f"internal error while checking: {exc}"[:500], None)

    def _commit(
        self, batch: list[Received], checked: list[Accepted | Quarantine]
    ) -> list[Accepted | Quarantine] | None:
        """Commit the batch and return what became of each message; None if stopped while the database was
        unreachable (nothing is acknowledged then, so the broker delivers it again). A message the store
        itself rejects is quarantined alone."""
        delay, outage_began = 0.5, None
        while True:
            try:
                with transaction(self.factory) as session:
                    self.counts.update(write_batch(session, self.blobs, checked))
                if outage_began is not None:
                    log.warning(
                        "storage is back after %.1f s: the batch of %d messages is stored",
                        time.monotonic() - outage_began,
                        len(checked),
                    )
                return checked
            except (SQLAlchemyError, EvidenceUnavailable, OSError, ValueError) as exc:
                if not (isinstance(exc, EvidenceUnavailable) or is_unavailable(exc)):
                    if len(batch) > 1:
                        return self._commit_one_by_one(batch, checked)
                    log.error("storing a message on %s failed: %s", batch[0].topic, exc)
                    checked = [Quarantine(batch[0].topic, batch[0].payload, f"store failed: {exc}"[:500], None)]
                    continue
                # An outage (a failover, a restarting server, an unreachable bucket): the whole batch is retried
                # as it is until it commits, and only then receipted. One line when it begins, one when it ends.
                if outage_began is None:
                    outage_began = time.monotonic()
                    log.error(
                        "%s; retrying the batch of %d messages, acknowledging none", _unavailable(exc), len(batch)
                    )
                self.counts["storage_retries"] += 1
                if self.stop.wait(delay):
                    return None
                delay = min(delay * 2, 2.0)

    def _commit_one_by_one(
        self, batch: list[Received], checked: list[Accepted | Quarantine]
    ) -> list[Accepted | Quarantine] | None:
        outcomes: list[Accepted | Quarantine] = []
        for item, one in zip(batch, checked, strict=True):
            outcome = self._commit([item], [one])
            if outcome is None:
                return None
            outcomes.extend(outcome)
        return outcomes

    def _send_receipts(self, batch: list[Received], outcomes: list[Accepted | Quarantine]) -> None:
        """After the commit, never before: a receipt makes the camera forget the message."""
        if self.receipts is None:
            return
        receipts = self.receipts.receipts([(i.topic, i.payload) for i in batch], outcomes, datetime.now(UTC))
        for topic, receipt in receipts:
            # QoS 1: paho keeps it across a reconnection; one lost anyway only costs the camera a resend.
            self.client.publish(topic, json.dumps(receipt, separators=(",", ":")).encode(), qos=1)
        self.counts["receipts"] += len(receipts)

    def _ack(self, batch: list[Received]) -> None:
        with self._epoch_lock:
            epoch = self._epoch
        for item in batch:
            if item.qos > 0 and item.epoch == epoch:
                self.client.ack(item.mid, item.qos)

    def process(self, batch: list[Received]) -> None:
        # Receipts (this worker's or another's) come back through the subscription: nothing to store.
        messages = [item for item in batch if not is_receipt_topic(item.topic, self.prefix)]
        outcomes = self._commit(messages, [self._check(item) for item in messages]) if messages else []
        if outcomes is not None:
            self._send_receipts(messages, outcomes)
            self._ack(batch)

    def run(self) -> Counter:
        """Ingest until `stop` is set; finish the batch in hand, then disconnect keeping the session."""
        self.client.connect_async(**self._connect_args)
        self.client.loop_start()
        last_report = time.monotonic()
        try:
            while not self.stop.is_set():
                batch = self._next_batch()
                if batch:
                    self.process(batch)
                if time.monotonic() - last_report > 10:
                    log.info("ingest so far: %s", dict(self.counts))
                    last_report = time.monotonic()
        finally:
            self.client.disconnect()
            self.client.loop_stop()
            self.engine.dispose()
        log.info("ingest stopped: %s", dict(self.counts))
        return self.counts

    def stop_on_signals(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop.set())
