"""Shared test fixtures. The shared footage and model are required: a missing or altered file fails
the run rather than skipping it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("CURBWATCH_SHARED", ROOT.parent / "shared")).resolve()


def _sums(folder: Path) -> dict[str, str]:
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        pytest.fail(f"{sums} is missing: the shared footage and model are required for the tests")
    pairs = (line.split() for line in sums.read_text().splitlines() if line.strip())
    return {name: digest for digest, name in pairs}


def shared_file(kind: str, name: str) -> Path:
    """Path of a file under ../shared/{kind}, verified against its SHA256SUMS."""
    folder = SHARED / kind
    expected = _sums(folder).get(name)
    path = folder / name
    if expected is None or not path.is_file():
        pytest.fail(f"{path} is missing or not listed in {folder / 'SHA256SUMS'}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != expected:
        pytest.fail(f"{path} has sha256 {digest}, expected {expected}")
    return path


@pytest.fixture(scope="session")
def model_path() -> Path:
    return shared_file("models", "yolov8n_int8.tflite")


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """Headless Debian Chromium, one per test module."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import launch

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


PG_ADMIN_URL = os.environ.get("CURBWATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """A fresh, empty database URL: a SQLite file, or a PostgreSQL database of its own (so parallel
    test runs never see each other's rows). PostgreSQL must be running: CI starts it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
        return
    import uuid

    from sqlalchemy import create_engine, text

    name = f"cw_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {PG_ADMIN_URL} is required for the tests: {exc}")
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def run_cli(*args: str, timeout: float = 120, **kwargs: object):  # type: ignore[no-untyped-def]
    """Run `curbwatch ARGS` in a subprocess from this checkout (not whatever copy is installed)."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(ROOT), **kwargs.pop("env", {})}  # type: ignore[dict-item]
    return subprocess.run(
        [sys.executable, "-m", "curbwatch", *args],
        cwd=kwargs.pop("cwd", ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
