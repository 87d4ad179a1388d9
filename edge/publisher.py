"""Drains the outbox to the broker: QoS 1, persistent session, Last Will, heartbeats.

A row leaves the outbox only when the broker's PUBACK for it arrived. Rows in flight when the
connection drops are re-sent by paho on reconnect; rows in flight when the process dies are sent
again after a restart (the broker and central absorb the repeat by event id)."""

from __future__ import annotations

import collections
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from curbwatch.mqtt_connect import make_client
from edge.outbox import Outbox
from models.config.mqtt import MqttConfig
from models.status import Heartbeat, StatusMessage
from models.topics import status_topic

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
    ) -> None:
        self.outbox, self.config, self.site, self.camera_id, self.sign = outbox, config, site, camera_id, sign
        self.health = health or (lambda: {})
        self.status_topic = status_topic(site, camera_id, config.prefix)
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

    def _status(self, state: str, with_time: bool = True, heartbeat: Heartbeat | None = None) -> dict:
        status = StatusMessage(
            site=self.site,
            camera_id=self.camera_id,
            state=state,  # type: ignore[arg-type]
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
            last_error=(self.last_error or "")[:500] or None,
            model=figures.get("model", ""),
            frames=figures.get("frames", 0),
            events=figures.get("events", 0),
            required_fps=figures.get("required_fps"),
            detect_fps=figures.get("detect_fps"),
            oldest_queued_s=self.outbox.oldest_age(),
        )

    def _enqueue_status(self, heartbeat: Heartbeat | None = None) -> None:
        payload = encode(self._status("online", heartbeat=heartbeat))
        self.outbox.enqueue(f"status-{time.time_ns()}", [(self.status_topic, payload, True)])

    # paho callbacks run on paho's network thread: they only record, the drain loop acts.
    def _on_connect(self, _client, _userdata, _flags, reason_code, properties) -> None:  # type: ignore[no-untyped-def]
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("%s", self.last_error)
            return
        receive_max = getattr(properties, "ReceiveMaximum", None) if properties else None
        self._window = min(self.config.inflight, receive_max or self.config.inflight)
        log.info("connected to %s (in-flight window %d)", self.config.url, self._window)
        self._connected.set()
        self._enqueue_status()

    def _on_connect_fail(self, _client, _userdata) -> None:  # type: ignore[no-untyped-def]
        self.last_error = f"cannot reach the broker at {self.config.url}"
        log.warning("%s; retrying with backoff", self.last_error)

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:  # type: ignore[no-untyped-def]
        self._connected.clear()
        if not self._stop.is_set():
            self.last_error = f"disconnected from the broker: {reason_code}"
            log.warning("%s; reconnecting with backoff", self.last_error)

    def _on_publish(self, _client, _userdata, mid, reason_code, _properties) -> None:  # type: ignore[no-untyped-def]
        self._acks.append((mid, reason_code))
        self.outbox.changed.set()

    def start(self) -> None:
        self.client.connect_async(**self._connect_args)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._drain_loop, name="outbox-drain", daemon=True)
        self._thread.start()

    def _settle_acks(self) -> None:
        done: list[int] = []
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
            else:
                done.append(seq)
        self.outbox.delete(done)
        self.published += len(done)

    def _drain_loop(self) -> None:
        last_sent = 0
        next_heartbeat = time.monotonic() + self.config.heartbeat_s
        while not self._stop.is_set():
            self.outbox.changed.clear()
            try:
                self._settle_acks()
                last_sent = self._send_new(last_sent)
                self._send_held()
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
        for row in self.outbox.get(held):
            info = self.client.publish(row.topic, row.payload, qos=1, retain=row.retain)
            self._inflight[info.mid] = (row.seq, row.retain)
        self._retry_at = time.monotonic() + NO_SUBSCRIBER_RETRY_S

    def wait_drained(self, timeout: float) -> bool:
        """Block until the outbox is empty (everything acknowledged) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.outbox.depth() == 0 and not self._inflight and not self._held:
                return True
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 5.0) -> None:
        """Stop draining and disconnect cleanly; what is not yet acknowledged stays in the outbox."""
        self._stop.set()
        self.outbox.changed.set()
        if self._thread is not None:
            self._thread.join(timeout)
        # A clean MQTT 5 disconnect would suppress the Last Will; this reason code asks the broker to send it,
        # so the retained status says `offline` after a deliberate stop too.
        self.client.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, "Disconnect with will message"))
        self.client.loop_stop()
