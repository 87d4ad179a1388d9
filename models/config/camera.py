"""The root of a camera's YAML configuration, and loading it with clear errors."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import yaml
from pydantic import ConfigDict, Field, ValidationError, model_validator

from models.base import IDENT_PATTERN, StrictModel
from models.config.calibration import CalibrationConfig
from models.config.detector import DetectorConfig
from models.config.mqtt import MqttConfig
from models.config.outbox import OutboxConfig
from models.config.redaction import RedactionConfig
from models.config.rules import RulesConfig
from models.config.signal import NoSignal, SignalConfig
from models.config.signing import SigningConfig
from models.config.source import SourceConfig
from models.config.zones import Zone
from models.errors import ConfigError, format_validation_error


class CameraIdentity(StrictModel):
    id: Annotated[str, Field(pattern=IDENT_PATTERN, description="Unique per site; part of every topic.")]
    site: Annotated[str, Field(pattern=IDENT_PATTERN, description="The site (place) the camera belongs to.")]
    name: Annotated[str | None, Field(max_length=128, description="Human-readable label.")] = None


class CameraConfig(StrictModel):
    # One loaded config is shared by the pipeline, its rules and its sinks: a change is a new config (a reload
    # makes one with model_copy) that the pipeline switches to between frames, never an edit under its feet.
    model_config = ConfigDict(frozen=True)

    camera: CameraIdentity
    source: SourceConfig
    detector: DetectorConfig = DetectorConfig()
    zones: Annotated[list[Zone], Field(min_length=1, max_length=64)]
    rules: RulesConfig = RulesConfig()
    signal: Annotated[SignalConfig, Field(description="Pedestrian signal: mode none, fixed, lamp or mqtt.")] = (
        NoSignal()
    )
    calibration: Annotated[
        CalibrationConfig | None, Field(description="Optional 4-point ground plane: metres and m/s.")
    ] = None
    redaction: RedactionConfig = RedactionConfig()
    mqtt: MqttConfig = MqttConfig()
    signing: SigningConfig = SigningConfig()
    outbox: OutboxConfig = OutboxConfig()

    @model_validator(mode="after")
    def _unique_zone_names(self) -> CameraConfig:
        seen: set[str] = set()
        for zone in self.zones:
            if zone.name in seen:
                raise ValueError(f"zone name {zone.name!r} is used twice; zone names must be unique")
            seen.add(zone.name)
        return self


def parse_camera_config(data: object, origin: str = "<config>") -> CameraConfig:
    """Validate an already-parsed mapping; raise ConfigError with one line per problem."""
    if not isinstance(data, dict):
        raise ConfigError(origin, [f"the top level must be a mapping of keys, got {type(data).__name__}"])
    try:
        return CameraConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(origin, format_validation_error(exc, CameraConfig)) from None


def load_camera_config(path: str | Path) -> CameraConfig:
    """Read and validate a camera YAML file; raise ConfigError with one line per problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file: {exc.strerror or exc}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}: " if where is not None else ""
        raise ConfigError(str(path), [f"{line}not valid YAML ({getattr(exc, 'problem', None) or exc})"]) from None
    return parse_camera_config(data, str(path))
