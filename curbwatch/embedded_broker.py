"""A small MQTT 5 broker that runs inside the Python process (an asyncio loop on a thread), for `curbwatch demo`
where Mosquitto is not installed.

It does what the edge publisher and the central ingest worker rely on, and no more: QoS 0 and 1 (QoS 2 is
refused, as announced in CONNACK), persistent sessions that queue QoS 1 messages while their client is away,
PUBACK reason 0x10 when nobody subscribed, retained messages, Last Wills, `$share/GROUP/...` shared
subscriptions, the client's Receive Maximum as the in-flight window, and keepalive. Sessions and retained
messages are saved to a JSON file on stop and loaded on start, so a restart loses nothing a client was promised.
It listens on loopback only and checks no credentials: it is a local stand-in, not a production broker."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

# MQTT topic matching as the clients see it: `+` is one level, a final `#` any number (zero included), and a
# filter that starts with a wildcard does not match `$`-topics.
from paho.mqtt.client import topic_matches_sub as matches

from curbwatch import mqtt_wire as wire
from curbwatch.local_broker import free_port
from curbwatch.mqtt_wire import Message, Subscription

log = logging.getLogger(__name__)

MAX_PACKET = 256 << 20
CONNECT_TIMEOUT_S = 10.0


def valid_filter(topic_filter: str) -> bool:
    levels = topic_filter.split("/")
    if not topic_filter or "\0" in topic_filter:
        return False
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return False
        if "+" in level and level != "+":
            return False
    return True


def split_shared(topic_filter: str) -> tuple[str | None, str]:
    """(group, filter) of `$share/GROUP/FILTER`, or (None, filter) for a plain one."""
    if topic_filter.startswith("$share/"):
        parts = topic_filter.split("/", 2)
        return parts[1], parts[2] if len(parts) > 2 else ""
    return None, topic_filter


@dataclass
class Session:
    client_id: str
    expiry_s: int = 0
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    queue: deque[Message] = field(default_factory=deque)
    inflight: dict[int, Message] = field(default_factory=dict)
    receive_maximum: int = 65535
    connection: Connection | None = None
    left_at: float | None = None
    """When its client went away (epoch seconds): the session expires `expiry_s` later."""
    _ids: itertools.cycle = field(default_factory=lambda: itertools.cycle(range(1, 65536)))

    def expired(self, now: float) -> bool:
        never = self.expiry_s == 0xFFFFFFFF  # MQTT 5: this value means "does not expire"
        return self.connection is None and self.left_at is not None and not never and now > self.left_at + self.expiry_s

    def deliver(self, message: Message) -> None:
        """QoS 1 waits in the queue when the window is full or the client is away; QoS 0 goes now or never."""
        if message.qos == 0:
            if self.connection is not None:
                self.connection.send(wire.publish(message, None))
            return
        self.queue.append(message)
        self.pump()

    def pump(self) -> None:
        while self.connection is not None and self.queue and len(self.inflight) < self.receive_maximum:
            message = self.queue.popleft()
            packet_id = next(self._ids)
            while packet_id in self.inflight:
                packet_id = next(self._ids)
            self.inflight[packet_id] = message
            self.connection.send(wire.publish(message, packet_id))

    def acknowledged(self, packet_id: int) -> None:
        self.inflight.pop(packet_id, None)
        self.pump()

    def resume(self) -> None:
        """After a reconnect, unacknowledged messages go again with DUP set, then the queue."""
        for packet_id, message in self.inflight.items():
            self.connection.send(wire.publish(message, packet_id, dup=True))  # type: ignore[union-attr]
        self.pump()


class Connection:
    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.session: Session | None = None
        self.will: Message | None = None
        self.closed = False

    def send(self, data: bytes) -> None:
        if not self.closed:
            self.writer.write(data)

    def close(self) -> None:
        self.closed = True
        self.writer.close()


def _message_json(message: Message) -> dict:
    data = asdict(message)
    data["payload"] = base64.b64encode(message.payload).decode("ascii")
    data["properties"] = base64.b64encode(message.properties).decode("ascii")
    return data


def _message_from(data: dict) -> Message:
    return Message(
        data["topic"],
        base64.b64decode(data["payload"]),
        data["qos"],
        data["retain"],
        base64.b64decode(data["properties"]),
    )


class BrokerCore:
    """Sessions, subscriptions, retained messages and routing; runs on the broker's event loop only."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.retained: dict[str, Message] = {}
        self._turns: dict[tuple[str, str], int] = {}

    def route(self, message: Message, sender: str) -> bool:
        """Deliver to every matching subscriber (one member per shared group); False if there was none."""
        groups: dict[tuple[str, str], list[tuple[Session, Subscription]]] = {}
        delivered = False
        for session in self.sessions.values():
            best: Subscription | None = None
            for full_filter, sub in session.subscriptions.items():
                group, topic_filter = split_shared(full_filter)
                if not matches(topic_filter, message.topic):
                    continue
                if group is not None:
                    groups.setdefault((group, topic_filter), []).append((session, sub))
                elif not (sub.no_local and session.client_id == sender) and (best is None or sub.qos > best.qos):
                    best = sub
            if best is not None:
                retain = message.retain and best.retain_as_published
                session.deliver(Message(message.topic, message.payload, min(message.qos, best.qos), retain,
                                        message.properties))  # fmt: skip
                delivered = True
        for key, members in groups.items():
            # Round robin over the members that are online; a group whose members are all away queues on one.
            online = [member for member in members if member[0].connection is not None] or members
            turn = self._turns.get(key, 0)
            self._turns[key] = turn + 1
            session, sub = online[turn % len(online)]
            session.deliver(Message(message.topic, message.payload, min(message.qos, sub.qos), False,
                                    message.properties))  # fmt: skip
            delivered = True
        return delivered

    def publish(self, message: Message, sender: str) -> bool:
        if message.retain:
            if message.payload:
                self.retained[message.topic] = message
            else:
                self.retained.pop(message.topic, None)
        return self.route(message, sender)

    def subscribe(self, session: Session, sub: Subscription) -> int:
        group, topic_filter = split_shared(sub.filter)
        if not valid_filter(topic_filter) or (group is not None and (not group or "+" in group or "#" in group)):
            return wire.TOPIC_FILTER_INVALID
        granted = min(sub.qos, 1)
        existed = sub.filter in session.subscriptions
        session.subscriptions[sub.filter] = Subscription(
            sub.filter, granted, sub.no_local, sub.retain_as_published, sub.retain_handling
        )
        if group is None and (sub.retain_handling == 0 or (sub.retain_handling == 1 and not existed)):
            for message in self.retained.values():
                if matches(topic_filter, message.topic):
                    session.deliver(Message(message.topic, message.payload, min(message.qos, granted), True,
                                            message.properties))  # fmt: skip
        return granted

    def drop_expired(self, now: float) -> None:
        for client_id in [c for c, session in self.sessions.items() if session.expired(now)]:
            del self.sessions[client_id]

    def state(self) -> dict:
        self.drop_expired(time.time())
        sessions = []
        for session in self.sessions.values():
            if session.expiry_s == 0:
                continue
            pending = list(session.inflight.values()) + list(session.queue)
            sessions.append(
                {
                    "client_id": session.client_id,
                    "expiry_s": session.expiry_s,
                    "left_at": session.left_at or time.time(),
                    "subscriptions": [asdict(sub) for sub in session.subscriptions.values()],
                    "pending": [_message_json(message) for message in pending if message.qos > 0],
                }
            )
        return {"retained": [_message_json(m) for m in self.retained.values()], "sessions": sessions}

    def load(self, state: dict) -> None:
        self.retained = {m["topic"]: _message_from(m) for m in state.get("retained", [])}
        for data in state.get("sessions", []):
            session = Session(data["client_id"], data["expiry_s"], left_at=data["left_at"])
            session.subscriptions = {sub["filter"]: Subscription(**sub) for sub in data["subscriptions"]}
            session.queue.extend(_message_from(m) for m in data["pending"])
            self.sessions[session.client_id] = session


class EmbeddedBroker:
    """Same use as LocalBroker: `start()`, `url`, `stop()`, or a `with` block."""

    def __init__(self, state_file: Path | None = None, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port or free_port()
        self.state_file = Path(state_file) if state_file else None
        self.core = BrokerCore()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[Connection] = set()
        self._tasks: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 10.0) -> EmbeddedBroker:
        if self.state_file is not None and self.state_file.is_file():
            self.core.load(json.loads(self.state_file.read_text(encoding="utf-8")))
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._server = self._loop.run_until_complete(  # type: ignore[union-attr]
                    asyncio.start_server(self._serve, self.host, self.port)
                )
            except OSError as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()  # type: ignore[union-attr]

        self._thread = threading.Thread(target=run, name="embedded-mqtt-broker", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError(f"the embedded broker did not start within {timeout} s")
        if failure:
            raise RuntimeError(f"the embedded broker cannot listen on {self.host}:{self.port}: {failure[0]}")
        log.info("embedded MQTT 5 broker listening on %s", self.url)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close every connection (no Wills: the broker, not the clients, went away) and save the state."""
        if self._loop is None or self._thread is None:
            return
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
        self._loop.close()
        self._loop = self._thread = None
        if self.state_file is not None:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.state_file.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.core.state()), encoding="utf-8")
            temporary.replace(self.state_file)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self._connections):
            connection.will = None
            connection.close()
        # A closed transport ends each conversation with an end-of-stream; cancelling is for stragglers only.
        if self._tasks:
            _done, stragglers = await asyncio.wait(set(self._tasks), timeout=2.0)
            for task in stragglers:
                task.cancel()

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None  # asyncio.start_server runs each connection's handler as a task
        self._tasks.add(task)
        connection = Connection(writer)
        self._connections.add(connection)
        try:
            await self._converse(connection, reader)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass
        except wire.MalformedPacket as exc:
            log.warning("closing a client that sent a malformed packet: %s", exc)
            connection.send(wire.disconnect(wire.MALFORMED_PACKET))
        except Exception:  # a broker bug costs this one connection, not the broker
            log.exception("closing a client after an internal error")
        finally:
            self._connections.discard(connection)
            self._tasks.discard(task)
            self._detach(connection)
            connection.close()

    def _detach(self, connection: Connection) -> None:
        session = connection.session
        if connection.will is not None:
            self.core.publish(connection.will, session.client_id if session else "")
            connection.will = None
        if session is not None and session.connection is connection:
            session.connection = None
            session.left_at = time.time()
            if session.expiry_s == 0:
                self.core.sessions.pop(session.client_id, None)

    async def _converse(self, connection: Connection, reader: asyncio.StreamReader) -> None:
        kind, _flags, body = await asyncio.wait_for(wire.read_packet(reader, MAX_PACKET), CONNECT_TIMEOUT_S)
        if kind != wire.CONNECT:
            raise wire.MalformedPacket("the first packet is not CONNECT")
        if wire.protocol_level(body) != 5:
            # An MQTT 3.1.1 CONNACK: "unacceptable protocol version", which older clients understand.
            connection.send(bytes([0x20, 0x02, 0x00, 0x01]))
            return
        request = wire.parse_connect(body)
        self._open_session(connection, request)
        keepalive = request.keepalive * 1.5 if request.keepalive else None
        while True:
            await connection.writer.drain()
            kind, flags, body = await asyncio.wait_for(wire.read_packet(reader, MAX_PACKET), keepalive)
            if not self._handle(connection, kind, flags, body):
                return

    def _open_session(self, connection: Connection, request: wire.Connect) -> None:
        assigned = None if request.client_id else f"auto-{uuid.uuid4().hex}"
        client_id = assigned or request.client_id
        self.core.drop_expired(time.time())
        session = self.core.sessions.get(client_id)
        if session is not None and session.connection is not None:
            self._take_over(session.connection)
            session = self.core.sessions.get(client_id)
        present = session is not None and not request.clean_start
        if session is None or not present:
            session = self.core.sessions[client_id] = Session(client_id)
        session.expiry_s = request.session_expiry
        session.receive_maximum = max(1, request.receive_maximum)
        session.connection = connection
        connection.session, connection.will = session, request.will
        connection.send(wire.connack(present, wire.SUCCESS, assigned))
        session.resume()

    def _take_over(self, old: Connection) -> None:
        """A second CONNECT with the same client id: the older connection goes, its Will is sent."""
        old.send(wire.disconnect(wire.SESSION_TAKEN_OVER))
        self._detach(old)
        old.session = None
        old.close()

    def _handle(self, connection: Connection, kind: int, flags: int, body: bytes) -> bool:
        """Act on one packet; False ends the conversation."""
        session = connection.session
        assert session is not None
        if kind == wire.PUBLISH:
            publish = wire.parse_publish(flags, body)
            if publish.message.qos > 1:
                connection.send(wire.disconnect(wire.QOS_NOT_SUPPORTED))
                return False
            if not publish.message.topic or any(c in publish.message.topic for c in "+#\0"):
                connection.send(wire.disconnect(wire.TOPIC_NAME_INVALID))
                return False
            delivered = self.core.publish(publish.message, session.client_id)
            if publish.packet_id is not None:
                reason = wire.SUCCESS if delivered else wire.NO_MATCHING_SUBSCRIBERS
                connection.send(wire.puback(publish.packet_id, reason))
        elif kind == wire.PUBACK:
            session.acknowledged(wire.Cursor(body).u16())
        elif kind == wire.SUBSCRIBE:
            subscribe = wire.parse_subscribe(body)
            # Retained messages may go out before the SUBACK (MQTT 5, section 3.8.4).
            reasons = [self.core.subscribe(session, sub) for sub in subscribe.subscriptions]
            connection.send(wire.suback(subscribe.packet_id, reasons))
        elif kind == wire.UNSUBSCRIBE:
            unsubscribe = wire.parse_unsubscribe(body)
            reasons = [
                wire.SUCCESS if session.subscriptions.pop(f, None) else wire.NO_SUBSCRIPTION_EXISTED
                for f in unsubscribe.filters
            ]
            connection.send(wire.unsuback(unsubscribe.packet_id, reasons))
        elif kind == wire.PINGREQ:
            connection.send(wire.pingresp())
        elif kind == wire.DISCONNECT:
            disconnect = wire.parse_disconnect(body)
            if disconnect.reason != wire.DISCONNECT_WITH_WILL:
                connection.will = None
            if disconnect.session_expiry is not None:
                session.expiry_s = disconnect.session_expiry
            return False
        else:
            connection.send(wire.disconnect(wire.PROTOCOL_ERROR))
            return False
        return True
