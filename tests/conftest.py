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
