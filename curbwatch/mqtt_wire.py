"""MQTT 5 wire format for the embedded broker: reading packets off a stream, parsing the client's packets,
building the broker's. Properties are coded by paho-mqtt's own `Properties`, the same code our clients use."""

from __future__ import annotations

import asyncio
import struct
from dataclasses import dataclass, field

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties, VariableByteIntegers

from models.errors import InputError

CONNECT, CONNACK, PUBLISH, PUBACK = 1, 2, 3, 4
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14

# Reason codes (MQTT 5, section 2.4) the broker sends.
SUCCESS = 0x00
DISCONNECT_WITH_WILL = 0x04
NO_MATCHING_SUBSCRIBERS = 0x10
NO_SUBSCRIPTION_EXISTED = 0x11
MALFORMED_PACKET = 0x81
PROTOCOL_ERROR = 0x82
UNSUPPORTED_PROTOCOL_VERSION = 0x84
SESSION_TAKEN_OVER = 0x8E
TOPIC_FILTER_INVALID = 0x8F
TOPIC_NAME_INVALID = 0x90
PACKET_TOO_LARGE = 0x95
QOS_NOT_SUPPORTED = 0x9B


class MalformedPacket(InputError, ValueError):
    """Bytes that are not a valid MQTT 5 packet; the connection is closed."""


@dataclass
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    properties: bytes = b"\x00"
    """The PUBLISH properties as received (length prefix included), forwarded unchanged."""


@dataclass
class Connect:
    client_id: str
    clean_start: bool
    keepalive: int
    session_expiry: int
    receive_maximum: int
    will: Message | None
    username: str | None


@dataclass
class Publish:
    message: Message
    packet_id: int | None
    dup: bool


@dataclass
class Subscription:
    filter: str
    qos: int
    no_local: bool = False
    retain_as_published: bool = False
    retain_handling: int = 0


@dataclass
class Subscribe:
    packet_id: int
    subscriptions: list[Subscription] = field(default_factory=list)


@dataclass
class Unsubscribe:
    packet_id: int
    filters: list[str] = field(default_factory=list)


@dataclass
class Disconnect:
    reason: int
    session_expiry: int | None


async def read_packet(reader: asyncio.StreamReader, max_size: int) -> tuple[int, int, bytes]:
    """(packet type, flags, body) of the next packet; IncompleteReadError at the end of the stream."""
    first = (await reader.readexactly(1))[0]
    length, multiplier = 0, 1
    for _ in range(4):
        digit = (await reader.readexactly(1))[0]
        length += (digit & 0x7F) * multiplier
        if not digit & 0x80:
            break
        multiplier *= 128
    else:
        raise MalformedPacket("remaining length longer than four bytes")
    if length > max_size:
        raise MalformedPacket(f"packet of {length} bytes is over the limit of {max_size}")
    return first >> 4, first & 0x0F, await reader.readexactly(length)


class Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise MalformedPacket("packet ends early")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("!H", self.take(2))[0]

    def binary(self) -> bytes:
        return self.take(self.u16())

    def text(self) -> str:
        try:
            return self.binary().decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedPacket("string is not UTF-8") from None

    def raw_properties(self) -> bytes:
        """The property block, length prefix included, without decoding it."""
        try:
            length, prefix = VariableByteIntegers.decode(self.data[self.pos : self.pos + 4])
        except Exception as exc:  # paho raises its own MalformedPacket or a plain MQTTException
            raise MalformedPacket(f"bad property length: {exc}") from None
        return self.take(prefix + length)

    def properties(self, packet_type: int) -> Properties:
        raw = self.raw_properties()
        try:
            return Properties(packet_type).unpack(raw)[0]
        except Exception as exc:  # unknown or repeated property identifiers
            raise MalformedPacket(f"bad properties: {exc}") from None

    def rest(self) -> bytes:
        chunk = self.data[self.pos :]
        self.pos = len(self.data)
        return chunk

    @property
    def done(self) -> bool:
        return self.pos >= len(self.data)


def protocol_level(body: bytes) -> int:
    """The protocol level of a CONNECT, read before anything version-specific."""
    cursor = Cursor(body)
    if cursor.text() not in ("MQTT", "MQIsdp"):  # MQIsdp: MQTT 3.1
        raise MalformedPacket("not an MQTT CONNECT")
    return cursor.byte()


def parse_connect(body: bytes) -> Connect:
    cursor = Cursor(body)
    cursor.text(), cursor.byte()
    flags = cursor.byte()
    if flags & 0x01:
        raise MalformedPacket("reserved CONNECT flag set")
    keepalive = cursor.u16()
    props = cursor.properties(PacketTypes.CONNECT)
    client_id = cursor.text()
    will = None
    if flags & 0x04:
        will_props = cursor.raw_properties()
        topic = cursor.text()
        will = Message(topic, cursor.binary(), (flags >> 3) & 0x03, bool(flags & 0x20), will_props)
    username = cursor.text() if flags & 0x80 else None
    if flags & 0x40:
        cursor.binary()  # the password: the embedded broker listens on loopback only and checks none
    return Connect(
        client_id=client_id,
        clean_start=bool(flags & 0x02),
        keepalive=keepalive,
        session_expiry=getattr(props, "SessionExpiryInterval", 0),
        receive_maximum=getattr(props, "ReceiveMaximum", 65535),
        will=will,
        username=username,
    )


def parse_publish(flags: int, body: bytes) -> Publish:
    qos = (flags >> 1) & 0x03
    cursor = Cursor(body)
    topic = cursor.text()
    packet_id = cursor.u16() if qos else None
    properties = cursor.raw_properties()
    return Publish(Message(topic, cursor.rest(), qos, bool(flags & 0x01), properties), packet_id, bool(flags & 0x08))


def parse_subscribe(body: bytes) -> Subscribe:
    cursor = Cursor(body)
    request = Subscribe(cursor.u16())
    cursor.properties(PacketTypes.SUBSCRIBE)
    while not cursor.done:
        topic_filter, options = cursor.text(), cursor.byte()
        request.subscriptions.append(
            Subscription(topic_filter, options & 0x03, bool(options & 0x04), bool(options & 0x08), (options >> 4) & 3)
        )
    if not request.subscriptions:
        raise MalformedPacket("SUBSCRIBE without a topic filter")
    return request


def parse_unsubscribe(body: bytes) -> Unsubscribe:
    cursor = Cursor(body)
    request = Unsubscribe(cursor.u16())
    cursor.properties(PacketTypes.UNSUBSCRIBE)
    while not cursor.done:
        request.filters.append(cursor.text())
    return request


def parse_disconnect(body: bytes) -> Disconnect:
    if not body:
        return Disconnect(SUCCESS, None)
    cursor = Cursor(body)
    reason = cursor.byte()
    if cursor.done:
        return Disconnect(reason, None)
    return Disconnect(reason, getattr(cursor.properties(PacketTypes.DISCONNECT), "SessionExpiryInterval", None))


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return struct.pack("!H", len(data)) + data


def frame(packet_type: int, flags: int, body: bytes) -> bytes:
    return bytes([packet_type << 4 | flags]) + VariableByteIntegers.encode(len(body)) + body


def connack(session_present: bool, reason: int, assigned_id: str | None = None) -> bytes:
    props = Properties(PacketTypes.CONNACK)
    props.MaximumQoS = 1
    props.RetainAvailable = 1
    props.WildcardSubscriptionAvailable = 1
    props.SharedSubscriptionAvailable = 1
    props.SubscriptionIdentifierAvailable = 0
    if assigned_id:
        props.AssignedClientIdentifier = assigned_id
    return frame(CONNACK, 0, bytes([int(session_present), reason]) + props.pack())


def publish(message: Message, packet_id: int | None, dup: bool = False) -> bytes:
    flags = (0x08 if dup else 0) | message.qos << 1 | int(message.retain)
    packet_id_bytes = struct.pack("!H", packet_id) if packet_id is not None else b""
    return frame(PUBLISH, flags, _text(message.topic) + packet_id_bytes + message.properties + message.payload)


def puback(packet_id: int, reason: int) -> bytes:
    return frame(PUBACK, 0, struct.pack("!HB", packet_id, reason) + b"\x00")


def suback(packet_id: int, reasons: list[int]) -> bytes:
    return frame(SUBACK, 0, struct.pack("!H", packet_id) + b"\x00" + bytes(reasons))


def unsuback(packet_id: int, reasons: list[int]) -> bytes:
    return frame(UNSUBACK, 0, struct.pack("!H", packet_id) + b"\x00" + bytes(reasons))


def pingresp() -> bytes:
    return frame(PINGRESP, 0, b"")


def disconnect(reason: int) -> bytes:
    return frame(DISCONNECT, 0, bytes([reason, 0]))
