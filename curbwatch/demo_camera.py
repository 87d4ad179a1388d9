"""The camera of `curbwatch demo`: which config and video, its signing key pair, and the config the edge
actually runs with (the user's, plus the demo's broker, key and outbox), written into the data folder so the
user's YAML is never changed."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from curbwatch.demo_folder import DemoFolder
from models.config.camera import CameraConfig, load_camera_config, parse_camera_config
from models.errors import InputError
from models.signing import generate_keypair

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
# The demo's broker is a plain one on loopback: the user's broker credentials and TLS do not apply to it.
_BROKER_KEYS = ("url", "tls", "username", "password_file")
RECEIPT_KEY_NAME = "central"


class DemoCameraError(InputError, ValueError):
    """A video or config the demo cannot use, with a one-line reason."""


@dataclass(frozen=True)
class DemoCamera:
    video: Path
    config_path: Path
    config: CameraConfig


def example_for(video: Path) -> Path | None:
    """The example config drawn on this clip (same file name), if the checkout has one."""
    candidate = EXAMPLES / f"{video.stem}.yaml"
    return candidate if candidate.is_file() else None


def choose_camera(video: str | None, config: str | None) -> DemoCamera | None:
    """None when there is nothing to replay. Raises ConfigError for a bad YAML, DemoCameraError otherwise."""
    if video is None and config is None:
        return None
    if video is not None and not Path(video).is_file():
        raise DemoCameraError(f"--video {video}: no such file")
    if config is None:
        example = example_for(Path(video))  # type: ignore[arg-type]
        if example is None:
            raise DemoCameraError(
                f"no camera config for {video}: give --config CAM.yaml with zones drawn on this video "
                f"(examples/ has one per shared clip)"
            )
        config = str(example)
    loaded = load_camera_config(config)
    if video is None:
        if not Path(loaded.source.uri).is_file():
            raise DemoCameraError(f"{config}: source.uri {loaded.source.uri!r} is not a video file; give --video FILE")
        video = loaded.source.uri
    return DemoCamera(Path(video), Path(config), loaded)


def ensure_keys(camera_id: str, folder: DemoFolder) -> Path:
    """The camera's private key, made on first use; its public key goes to central's keys folder."""
    private = folder.camera_keys / f"{camera_id}.key"
    public = folder.camera_keys / f"{camera_id}.pub"
    if not private.is_file():
        generate_keypair(camera_id, folder.camera_keys)
    folder.keys.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(public, folder.keys / public.name)
    return private


def ensure_receipt_key(folder: DemoFolder) -> tuple[Path, Path]:
    """Central's receipt key pair (private, public), made on first use: the demo's camera keeps each event until
    central's signed receipt says it is stored, as a real camera does."""
    private = folder.central_keys / f"{RECEIPT_KEY_NAME}.key"
    if not private.is_file():
        generate_keypair(RECEIPT_KEY_NAME, folder.central_keys)
    return private, folder.central_keys / f"{RECEIPT_KEY_NAME}.pub"


def write_edge_config(camera: DemoCamera, folder: DemoFolder, broker_url: str) -> Path:
    """The user's config with the demo's broker, signing key and outbox, as folder/edge/CAMERA_ID.yaml."""
    camera_id = camera.config.camera.id
    data = yaml.safe_load(camera.config_path.read_text(encoding="utf-8"))
    mqtt = {key: value for key, value in (data.get("mqtt") or {}).items() if key not in _BROKER_KEYS}
    data["mqtt"] = {**mqtt, "url": broker_url}
    data["signing"] = {"key": str(ensure_keys(camera_id, folder)), "central_key": str(ensure_receipt_key(folder)[1])}
    data["outbox"] = {**(data.get("outbox") or {}), "path": str(folder.edge / f"outbox-{camera_id}.db")}
    path = folder.edge / f"{camera_id}.yaml"
    parse_camera_config(data, str(path))  # the user's file was valid; this guards the demo's own additions
    folder.edge.mkdir(parents=True, exist_ok=True)
    header = f"# Written by `curbwatch demo` from {camera.config_path} at each start; edit that file, not this one.\n"
    path.write_text(header + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def write_central_settings(camera: DemoCamera, folder: DemoFolder) -> Path:
    """Central's settings for this camera, so that the console's zone editor opens the demo's clip and its
    camera file and redacts with the camera's own model (its defaults, DATA_DIR/media, DATA_DIR/cameras and
    yolov8n.pt, hold nothing in a demo). The camera file is the user's: the demo reads it at each start."""
    detector = camera.config.detector.model_dump(mode="json", exclude_defaults=True)
    # The edge finds a relative model path from the folder the demo runs in; central must find the same file.
    detector["model"] = str(Path(camera.config.detector.model).resolve())
    editor = {
        "media_dirs": [str(camera.video.resolve().parent)],
        "cameras_dir": str(camera.config_path.resolve().parent),
        "detector": detector,
    }
    folder.root.mkdir(parents=True, exist_ok=True)
    header = "# Written by `curbwatch demo` at each start for its camera; changes here do not last.\n"
    folder.settings.write_text(header + yaml.safe_dump({"editor": editor}, sort_keys=False), encoding="utf-8")
    return folder.settings
