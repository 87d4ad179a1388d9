"""Command-line helpers the edge, central and curbwatch commands share: config loading with one line per problem,
and the one-line error and exit."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from models.config import CameraConfig, load_camera_config
from models.errors import ConfigError

SHARED_MODEL = "../shared/models/yolov8n_int8.tflite"
"""The offline detector beside a checkout, from the repository root (README's layout)."""
DB_HELP = "SQLAlchemy URL (sqlite:///FILE or postgresql+psycopg://...); default a SQLite file in ./data."
EXIT_CONFIG = 2


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


def model_error_line(exc: Exception) -> str:
    """The error; for weights that are not there, also where the offline model is and how to choose it (the
    default yolov8n.pt needs the full install and a download)."""
    message = str(exc)
    if message.startswith("model file not found"):
        message += (
            f"; the offline model is {SHARED_MODEL} (from the repository root): pass --model {SHARED_MODEL} "
            "or set detector.model in the camera YAML"
        )
    return message


def report_config_error(exc: ConfigError) -> NoReturn:
    for problem in exc.problems:
        click.echo(f"{exc.origin}: {problem}", err=True)
    raise SystemExit(EXIT_CONFIG)


def load_config_or_exit(path: str | Path) -> CameraConfig:
    """Load a camera config, or print one line per problem and exit 2."""
    try:
        return load_camera_config(path)
    except ConfigError as exc:
        report_config_error(exc)
