"""Small helpers every subcommand uses: config loading with clean errors, and honest stubs."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import click

from models.config import CameraConfig, load_camera_config
from models.errors import ConfigError

DB_HELP = "SQLAlchemy URL (sqlite:///FILE or postgresql+psycopg://...); default a SQLite file in ./data."
EXIT_CONFIG = 2


def fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    raise SystemExit(code)


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
