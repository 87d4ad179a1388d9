"""A camera file drafted in the zone editor: coordinates rounded, checked by the edge's own CameraConfig
(one line per problem), written as YAML into the cameras folder. Only the parts the editor changes are
touched; every other section of a loaded file is written back as it was (its comments are not)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from models.base import IDENT_PATTERN
from models.config.camera import CameraConfig, parse_camera_config
from models.errors import ConfigError

DECIMALS = 4
"""A 4K frame is 3840 px wide: 1e-4 of it is under half a pixel."""
FILE_NAME_PATTERN = IDENT_PATTERN
SUFFIX = ".yaml"


@dataclass(frozen=True)
class Checked:
    data: dict[str, Any]
    """The draft as it will be written (coordinates rounded)."""
    config: CameraConfig | None
    problems: list[str]


def _rounded(value: Any) -> Any:
    return round(value, DECIMALS) if isinstance(value, float) else value


def round_polygons(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of the draft with each zone's coordinates rounded; shapes the models refuse are left for them."""
    zones = data.get("zones")
    if not isinstance(zones, list):
        return dict(data)
    rounded = []
    for zone in zones:
        if isinstance(zone, dict) and isinstance(zone.get("polygon"), list):
            points = [[_rounded(v) for v in p] if isinstance(p, list) else p for p in zone["polygon"]]
            zone = {**zone, "polygon": points}
        rounded.append(zone)
    return {**data, "zones": rounded}


def check(data: dict[str, Any]) -> Checked:
    rounded = round_polygons(data)
    try:
        return Checked(rounded, parse_camera_config(rounded, "draft"), [])
    except ConfigError as exc:
        return Checked(rounded, None, exc.problems)


def file_path(folder: Path, name: str) -> Path:
    """The camera file called `name` in `folder`; ValueError for a name that is not a plain identifier."""
    if not re.fullmatch(FILE_NAME_PATTERN, name):
        raise ValueError(
            "file name must be 1-64 letters, digits, '_' or '-', starting with a letter or digit (no folders)"
        )
    return folder / f"{name}{SUFFIX}"


def camera_files(folder: Path) -> list[str]:
    """Names (without .yaml) of the camera files in `folder` the editor can open."""
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob(f"*{SUFFIX}") if p.is_file() and re.fullmatch(FILE_NAME_PATTERN, p.stem))


def read_draft(path: Path) -> dict[str, Any]:
    """The raw mapping in a camera file (validation is left to `check`, so a broken file can still be fixed in
    the editor); ConfigError when it is not readable YAML holding a mapping."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(path.name, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(path.name, [f"not valid YAML ({getattr(exc, 'problem', None) or exc})"]) from None
    if not isinstance(data, dict):
        raise ConfigError(path.name, ["the top level must be a mapping of keys"])
    return data


class _Dumper(yaml.SafeDumper):
    """Block style for sections, flow style for points, so a polygon reads as one [x, y] pair per line."""


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flat = all(not isinstance(item, (list, dict)) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)


_Dumper.add_representer(list, _represent_list)


def render_yaml(data: dict[str, Any], header: str) -> str:
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)
    return "".join(f"# {line}\n" for line in header.splitlines()) + body


def write_atomically(path: Path, text: str) -> str:
    """Write `text` to `path` all at once (an edge reading it never sees half a file); returns its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return hashlib.sha256(data).hexdigest()
