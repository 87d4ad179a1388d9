"""Settings of the console's zone editor: the video files and streams it may open, where camera files go,
and the detector that redacts the frames it shows (DESIGN.md section 6: no raw frame reaches a browser)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator

from models.base import IDENT_PATTERN, StrictModel
from models.config.detector import DetectorConfig

STREAM_URL_PATTERN = r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$"
BROKER_HOST_PATTERN = r"^[A-Za-z0-9*.:-]{1,253}$"


class EditorStream(StrictModel):
    name: Annotated[str, Field(pattern=IDENT_PATTERN, description="How the editor lists the stream.")]
    url: Annotated[
        SecretStr,
        Field(description="rtsp://, http(s):// ... URL; it may hold a password, so pages and the audit log mask it."),
    ]

    @field_validator("url")
    @classmethod
    def _looks_like_a_stream(cls, url: SecretStr) -> SecretStr:
        if not re.fullmatch(STREAM_URL_PATTERN, url.get_secret_value()):
            raise ValueError("must be a stream URL such as rtsp://host/path")
        return url


class EditorSettings(StrictModel):
    media_dirs: Annotated[
        list[Path] | None,
        Field(
            max_length=20,
            description="Folders whose video files the editor may open, written into camera files as "
            "FOLDER/FILE, so name them as the edge boxes see them; default data_dir/media.",
        ),
    ] = None
    streams: Annotated[
        list[EditorStream], Field(max_length=100, description="Live streams the editor may open, by name.")
    ] = []
    cameras_dir: Annotated[
        Path | None, Field(description="Folder the editor reads and writes camera files in; default data_dir/cameras.")
    ] = None
    detector: Annotated[
        DetectorConfig,
        Field(description="The model that finds (and so redacts) people in the frames the editor shows and tests."),
    ] = DetectorConfig()
    max_test_seconds: Annotated[
        int, Field(ge=1, le=300, description="Longest test replay an admin may start from the editor.")
    ] = 20
    model_dirs: Annotated[
        list[Path] | None,
        Field(
            max_length=20,
            description="Folders a camera file written by the editor may take its detector.model from, named as the "
            "edge boxes see them (a relative path counts from central's working folder, as source.uri does); "
            "default data_dir/models and the folder editor.detector.model names, if it names one.",
        ),
    ] = None
    file_dirs: Annotated[
        list[Path] | None,
        Field(
            max_length=20,
            description="Folders a camera file written by the editor may keep its outbox.path, signing.key, "
            "signing.central_key and the broker's TLS and password files in; default data_dir/edge. Never a folder "
            "of central's own database or keys: an edge writes its outbox there.",
        ),
    ] = None
    mqtt_schemes: Annotated[
        list[Literal["mqtt", "mqtts"]],
        Field(min_length=1, description="Schemes a camera file written by the editor may give mqtt.url."),
    ] = ["mqtt", "mqtts"]
    mqtt_hosts: Annotated[
        list[Annotated[str, Field(pattern=BROKER_HOST_PATTERN)]],
        Field(
            min_length=1,
            max_length=50,
            description="Brokers a camera file written by the editor may publish to: host names or addresses, '*' "
            "for any run of characters (broker-*.town.example); default the camera box's own loopback broker.",
        ),
    ] = ["127.0.0.1", "localhost", "::1"]

    @field_validator("streams")
    @classmethod
    def _unique_names(cls, streams: list[EditorStream]) -> list[EditorStream]:
        names = [stream.name for stream in streams]
        if len(set(names)) != len(names):
            raise ValueError("stream names must not repeat")
        return streams

    def media_paths(self, data_dir: Path) -> list[Path]:
        return list(self.media_dirs) if self.media_dirs is not None else [data_dir / "media"]

    def cameras_path(self, data_dir: Path) -> Path:
        return self.cameras_dir or data_dir / "cameras"

    def model_paths(self, data_dir: Path) -> list[Path]:
        if self.model_dirs is not None:
            return list(self.model_dirs)
        own = Path(self.detector.model).parent
        return [data_dir / "models"] + ([own] if own != Path(".") else [])

    def file_paths(self, data_dir: Path) -> list[Path]:
        return list(self.file_dirs) if self.file_dirs is not None else [data_dir / "edge"]
