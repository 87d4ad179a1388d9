"""One way to build a paho-mqtt 2.x client, shared by the edge publisher and the central worker:
MQTT 5, persistent session, TLS and username/password from the configuration."""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from models.config.mqtt import MqttConfig
from models.errors import InputError


class BrokerConfigError(InputError, ValueError):
    """A broker URL or credential that cannot be used."""


def broker_address(url: str) -> tuple[str, int, bool]:
    """(host, port, tls) of an mqtt:// or mqtts:// URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise BrokerConfigError(f"broker URL {url!r} must look like mqtt://host:port or mqtts://host:port")
    try:
        port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
    except ValueError:
        raise BrokerConfigError(f"broker URL {url!r} has a bad port") from None
    return parts.hostname, port, parts.scheme == "mqtts"


def _read_password(path: Path) -> str:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BrokerConfigError(f"cannot read the broker password file {path}: {exc.strerror or exc}") from None
    if not lines or not lines[0]:
        raise BrokerConfigError(f"broker password file {path} is empty")
    return lines[0]


def make_client(client_id: str, config: MqttConfig) -> tuple[mqtt.Client, dict]:
    """A configured client (not yet connected) and the keyword arguments for `client.connect`."""
    host, port, tls = broker_address(config.url)
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
    )
    if config.username is not None:
        password = _read_password(config.password_file) if config.password_file else None
        client.username_pw_set(config.username, password)
    if tls or config.tls is not None:
        options = config.tls
        context = ssl.create_default_context(cafile=str(options.ca_file) if options and options.ca_file else None)
        if options and options.cert_file and options.key_file:
            context.load_cert_chain(str(options.cert_file), str(options.key_file))
        if options and options.insecure:
            context.check_hostname = False
        client.tls_set_context(context)
    client.reconnect_delay_set(min_delay=config.reconnect_min_s, max_delay=config.reconnect_max_s)  # type: ignore[arg-type]
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = config.session_expiry_s
    properties.ReceiveMaximum = 1000
    connect = {
        "host": host,
        "port": port,
        "keepalive": config.keepalive_s,
        "clean_start": False,
        "properties": properties,
    }
    return client, connect
