"""What a camera file written by the zone editor may point its edge at besides its source: a model from the model
folders, an outbox, keys and broker files from the edge files folders, and a broker the settings name. An admin's
page must not write a camera file that makes a box read, or write its outbox into, any file on the machine, or
publish (signed, with its evidence) to any broker."""

from __future__ import annotations

from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from central.console.zone_editor.folders import inside_any
from central.editor_settings import EditorSettings
from common.mqtt_client import BrokerConfigError, broker_address

MODEL_FIELDS = (("detector", "model"),)
FILE_FIELDS = (
    ("outbox", "path"),
    ("signing", "key"),
    ("signing", "central_key"),
    ("mqtt", "password_file"),
    ("mqtt", "tls", "ca_file"),
    ("mqtt", "tls", "cert_file"),
    ("mqtt", "tls", "key_file"),
)


def _value(config: dict[str, Any], keys: tuple[str, ...]) -> Any:
    value: Any = config
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _path_problems(
    config: dict[str, Any], fields: tuple[tuple[str, ...], ...], folders: list[Path], setting: str
) -> list[str]:
    # A value that is not a string is left to CameraConfig, which says what it should be.
    allowed = ", ".join(str(folder) for folder in folders)
    return [
        f"{'.'.join(keys)}: {value} is outside the folders a camera file may name for it ({setting}: {allowed})"
        for keys in fields
        if isinstance(value := _value(config, keys), str) and not inside_any(Path(value), folders)
    ]


def _broker_problems(url: str, settings: EditorSettings) -> list[str]:
    try:
        parts = urlsplit(url)
        if parts.username is not None or parts.password is not None:
            return ["mqtt.url: must not hold a user name or password; use mqtt.username and mqtt.password_file"]
        host, _port, _tls = broker_address(url)
    except (BrokerConfigError, ValueError):
        return ["mqtt.url: must look like mqtt://host:port or mqtts://host:port"]
    problems = []
    if parts.scheme not in settings.mqtt_schemes:
        allowed = ", ".join(f"{scheme}://" for scheme in settings.mqtt_schemes)
        problems.append(f"mqtt.url: {parts.scheme}:// is not allowed; allowed: {allowed} (editor.mqtt_schemes)")
    if not any(fnmatchcase(host.lower(), pattern.lower()) for pattern in settings.mqtt_hosts):
        allowed = ", ".join(settings.mqtt_hosts)
        problems.append(f"mqtt.url: broker {host} is not allowed; allowed: {allowed} (editor.mqtt_hosts)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        problems.append("mqtt.url: must be mqtt://host:port or mqtts://host:port, with nothing after the port")
    return problems


def confinement_problems(config: dict[str, Any], settings: EditorSettings, data_dir: Path) -> list[str]:
    """One line per field of the draft that names a file outside its folders or a broker not allowed."""
    return (
        _path_problems(config, MODEL_FIELDS, settings.model_paths(data_dir), "editor.model_dirs")
        + _path_problems(config, FILE_FIELDS, settings.file_paths(data_dir), "editor.file_dirs")
        + (_broker_problems(url, settings) if isinstance(url := _value(config, ("mqtt", "url")), str) else [])
    )
