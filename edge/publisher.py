"""Drains the outbox to the broker: QoS 1, persistent session, Last Will, heartbeats, receipts.

With central's receipt key (`signing.central_key`) a row leaves the outbox only when central's signed
receipt names it: the broker's PUBACK only starts the wait, after which the row is sent again with
backoff, since a broker that crashes loses what it acknowledged but had not saved. Every start sends
every unreceipted row once more. Without the key a row leaves at its PUBACK. Rows in flight when the
connection drops are re-sent by paho on reconnect; central absorbs every repeat by event id and sha256."""

from __future__ import annotations

import collections
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from common.mqtt_client import make_client
from edge.outbox import Outbox, OutboxRow
from edge.receipts import ReceiptReader
from models.config.mqtt import MqttConfig
from models.status import Heartbeat, StatusMessage, StatusState
from models.topics import receipt_topic, status_topic

log = logging.getLogger(__name__)

NO_MATCHING_SUBSCRIBERS = 0x10
NO_SUBSCRIBER_RETRY_S = 1.0

Signer = Callable[[dict], dict]
Health = Callable[[], dict]


def encode(message: dict) -> bytes:
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Publisher:
    def __init__(
        self,
        outbox: Outbox,
        config: MqttConfig,
        site: str,
        camera_id: str,
        sign: Signer,
        health: Health | None = None,
        receipts: ReceiptReader | None = None,
    ) -> None:
        self.outbox, self.config, self.site, self.camera_id, self.sign = outbox, config, site, camera_id, sign
        self.health = health or (lambda: {})
        self.receipts = receipts
        """None: no central key, rows leave at PUBACK."""
        self.status_topic = status_topic(site, camera_id, config.prefix)
        self.receipt_topic = receipt_topic(site, camera_id, config.prefix)
        self._receipts_in: collections.deque[bytes] = collections.deque()
        self.last_error: str | None = None
        self.started = time.monotonic()
        self.published = 0
        self._acks: collections.deque[tuple[int, mqtt.ReasonCode]] = collections.deque()
        self._inflight: dict[int, tuple[int, bool]] = {}
        self._held: list[int] = []
        """Rows the broker took but could route to nobody; sent again until a subscriber takes them."""
        self._retry_at = 0.0
        self._window = config.inflight
        self._connected = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.client, self._connect_args = make_client(config.client_id or f"curbwatch-edge-{camera_id}", config)
        self.client.max_inflight_messages_set(config.inflight)
        self.client.max_queued_messages_set(0)
        self.client.will_set(self.status_topic, encode(self._status("offline", with_time=False)), qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_connect_fail = self._on_connect_fail
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def _status(self, state: StatusState, with_time: bool = True, heartbeat: Heartbeat | None = None) -> dict[str, Any]:
        status = StatusMessage(
            site=self.site,
            camera_id=self.camera_id,
            state=state,
            at=datetime.now(UTC) if with_time else None,
            heartbeat=heartbeat,
        )
        return self.sign(status.to_payload())

    def heartbeat(self) -> Heartbeat:
        figures = self.health()
        return Heartbeat(
            uptime_s=time.monotonic() - self.started,
            fps=figures.get("fps", 0.0),
            queue_depth=self.outbox.depth(),
            last_error="; ".join(filter(None, (figures.get("last_error"), self.last_error)))[:500] or None,
            model=figures.get("model", ""),
            frames=figures.get("frames", 0),
            events=figures.get("events", 0),
            required_fps=figures.get("required_fps"),
            detect_fps=figures.get("detect_fps"),
            oldest_queued_s=self.outbox.oldest_age(),
        )

    def send_heartbeat(self) -> None:
        """Queue a heartbeat now, outside the timer: a replay's last figures before it stops."""
        self._enqueue_status(self.heartbeat())

    def _enqueue_status(self, heartbeat: Heartbeat | None = None) -> None:
        payload = encode(self._status("online", heartbeat=heartbeat))
        self.outbox.enqueue(f"status-{time.time_ns()}", [(self.status_topic, payload, True)])

    # paho callbacks run on paho's network thread: they only record, the drain loop acts.
    def _on_connect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("%s", self.last_error)
            return
        receive_max = getattr(properties, "ReceiveMaximum", None) if properties else None
        self._window = min(self.config.inflight, receive_max or self.config.inflight)
        log.info("connected to %s (in-flight window %d)", self.config.url, self._window)
        if self.receipts is not None:
            # Every time: a session the broker lost in a crash has no subscription left to restore.
            self.client.subscribe(self.receipt_topic, qos=1)
        self._connected.set()
        self._enqueue_status()

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        if any(code.is_failure for code in reason_codes):
            self.last_error = f"the broker refused the subscription to {self.receipt_topic}: {reason_codes[0]}"
            log.error("%s; no receipt can arrive, so every event stays in the outbox (check the ACL)", self.last_error)

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        if message.topic == self.receipt_topic:
            self._receipts_in.append(bytes(message.payload))
            self.outbox.changed.set()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: Any) -> None:
        self.last_error = f"cannot reach the broker at {self.config.url}"
        log.warning("%s; retrying with backoff", self.last_error)

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            self.last_error = f"disconnected from the broker: {reason_code}"
            log.warning("%s; reconnecting with backoff", self.last_error)

    def _on_publish(
        self, _client: mqtt.Client, _userdata: Any, mid: int, reason_code: ReasonCode, _properties: Properties | None
    ) -> None:
        self._acks.append((mid, reason_code))
        self.outbox.changed.set()

    def start(self) -> None:
        self.client.connect_async(**self._connect_args)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._drain_loop, name="outbox-drain", daemon=True)
        self._thread.start()

    def _settle_acks(self) -> None:
        done: list[int] = []
        awaiting: list[int] = []
        while self._acks:
            mid, reason_code = self._acks.popleft()
            sent = self._inflight.pop(mid, None)
            if sent is None:
                continue
            seq, retained = sent
            if reason_code.value == NO_MATCHING_SUBSCRIBERS and not retained:
                # MQTT 5 PUBACK 0x10: nothing stored it, e.g. while central's shared subscription is not yet
                # back after a broker restart (Mosquitto does not persist shared subscriptions). Keep the row.
                if not self._held:
                    log.warning("no subscriber took a message: holding it in the outbox; is central subscribed?")
                    self._retry_at = time.monotonic() + NO_SUBSCRIBER_RETRY_S
                self._held.append(seq)
            elif reason_code.is_failure:
                self.last_error = f"broker refused a message: {reason_code}"
                log.error("%s; moved aside in the outbox's rejected table", self.last_error)
                self.outbox.reject(seq, str(reason_code))
            elif self.receipts is not None and not retained:
                awaiting.append(seq)
            else:
                done.append(seq)
        self.outbox.delete(done)
        self.outbox.await_receipt(awaiting)
        self.published += len(done) + len(awaiting)

    def _apply_receipts(self) -> None:
        """Release what central's receipts name; move what central quarantined aside with its reason."""
        while self._receipts_in and self.receipts is not None:
            receipt = self.receipts.read(self._receipts_in.popleft())
            if receipt is None:
                self.last_error = "ignored a receipt that central did not sign for this camera (see the log)"
                continue
            released = self.outbox.release(receipt.stored)
            log.debug("receipt for %d messages released %d outbox rows", len(receipt.stored), released)
            for refused in receipt.quarantined:
                if self.outbox.reject_digest(refused.sha256, f"quarantined by central: {refused.reason}"):
                    self.last_error = f"central quarantined a message: {refused.reason}"
                    log.error("%s; moved aside in the outbox's rejected table", self.last_error)

    def _drain_loop(self) -> None:
        last_sent = 0
        next_heartbeat = time.monotonic() + self.config.heartbeat_s
        while not self._stop.is_set():
            self.outbox.changed.clear()
            try:
                self._settle_acks()
                self._apply_receipts()
                last_sent = self._send_new(last_sent)
                self._send_held()
                self._send_due()
                if self._connected.is_set() and time.monotonic() >= next_heartbeat:
                    self._enqueue_status(self.heartbeat())
                    next_heartbeat = time.monotonic() + self.config.heartbeat_s
            except sqlite3.Error as exc:
                # A full or failing disk: keep the thread alive and try again; nothing is lost by waiting.
                self.last_error = f"outbox error: {exc}"
                log.error("%s; retrying in 1 s", self.last_error)
                self._stop.wait(1.0)
            self.outbox.changed.wait(0.2)
        self._settle_acks()

    def _send_new(self, last_sent: int) -> int:
        """Publish rows after `last_sent` while the in-flight window has room; returns the new high mark."""
        if not self._connected.is_set() or len(self._inflight) >= self._window:
            return last_sent
        for row in self.outbox.after(last_sent, self._window - len(self._inflight)):
            info = self.client.publish(row.topic, row.payload, qos=1, retain=row.retain)
            # Even without a connection paho keeps a QoS 1 message and sends it on reconnect.
            self._inflight[info.mid] = (row.seq, row.retain)
            last_sent = row.seq
            if info.rc == mqtt.MQTT_ERR_NO_CONN:
                break
        return last_sent

    def _send_held(self) -> None:
        if not self._held or not self._connected.is_set() or time.monotonic() < self._retry_at:
            return
        held, self._held = self._held, []
        self._publish(self.outbox.get(held))
        self._retry_at = time.monotonic() + NO_SUBSCRIBER_RETRY_S

    def _send_due(self) -> None:
        """Send again the acknowledged rows whose receipt is overdue, as the in-flight window allows."""
        if self.receipts is None or not self._connected.is_set() or len(self._inflight) >= self._window:
            return
        self._publish(self.outbox.take_due(self._window - len(self._inflight)))

    def _publish(self, rows: list[OutboxRow]) -> None:
        for row in rows:
            info = self.client.publish(row.topic, row.payload, qos=1, retain=row.retain)
            self._inflight[info.mid] = (row.seq, row.retain)

    def wait_drained(self, timeout: float) -> bool:
        """Block until the outbox is empty (everything receipted, or acknowledged without receipts) or
        `timeout` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.outbox.depth() == 0 and not self._inflight and not self._held:
                return True
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 5.0) -> None:
        """Stop draining and disconnect cleanly; what is not yet released stays in the outbox."""
        self._stop.set()
        self.outbox.changed.set()
        if self._thread is not None:
            self._thread.join(timeout)
        # A clean MQTT 5 disconnect would suppress the Last Will; this reason code asks the broker to send it,
        # so the retained status says `offline` after a deliberate stop too.
        self.client.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message"))
        self.client.loop_stop()
