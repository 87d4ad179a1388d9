"""The weights file: where it is, its sha256, what runs it, and the class names stored inside it."""

from __future__ import annotations

import ast
import hashlib
import json
import zipfile
from pathlib import Path

import yaml

from models.errors import InputError


class ModelError(InputError):
    """Weights that cannot be used: missing, wrong sha256, unloadable, or without a `person` class; exit 5."""

    exit_code = 5


SHARED_MODEL = "../shared/models/yolov8n_int8.tflite"
"""The offline detector beside a checkout, from the repository root (README's layout)."""


class ModelFileMissing(ModelError):
    """No weights at the path given. On the command line it also says where the offline model is and how to choose
    it (the default yolov8n.pt needs the full install and a download); elsewhere the message stays the bare fact."""

    def __init__(self, model_name: str) -> None:
        super().__init__(f"model file not found: {model_name}")

    def lines(self) -> list[str]:
        return [
            f"error: {self}; the offline model is {SHARED_MODEL} (from the repository root): "
            f"pass --model {SHARED_MODEL} or set detector.model in the camera YAML"
        ]


NATIVE_SUFFIXES = (".tflite", ".onnx")
"""Single-file formats a model runtime reads directly; an OpenVINO IR folder (or its `.xml`) is the third."""


def sha256_of(path: Path) -> str:
    """Digest of a weights file; for a model folder (OpenVINO), of its files' names and digests in order."""
    if path.is_dir():
        outer = hashlib.sha256()
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            outer.update(f"{item.relative_to(path).as_posix()}\0{sha256_of(item)}\n".encode())
        return outer.hexdigest()
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def model_format(path: Path) -> str:
    """`tflite`, `onnx`, `openvino` (an IR folder or its .xml), `pytorch` (.pt) or `architecture` (.yaml)."""
    if path.is_dir() or path.suffix == ".xml":
        return "openvino"
    return {
        ".tflite": "tflite",
        ".onnx": "onnx",
        ".pt": "pytorch",
        ".yaml": "architecture",
        ".yml": "architecture",
    }.get(path.suffix, path.suffix.lstrip(".") or "unknown")


def is_native(path: Path) -> bool:
    """Whether a model runtime can run this file without Ultralytics (and so without torch)."""
    return model_format(path) in ("tflite", "onnx", "openvino")


def stored_names(path: Path) -> dict[int, str]:
    """The class names Ultralytics' exporter stores beside the weights: a zip entry appended to a `.tflite`,
    `metadata.yaml` beside an OpenVINO IR (an `.onnx` keeps them in properties its runtime reads). Empty when
    there are none."""
    metadata: dict = {}
    fmt = model_format(path)
    try:
        if fmt == "tflite":
            with zipfile.ZipFile(path) as bundle:
                entries = bundle.namelist()
                if entries:
                    text = bundle.read("metadata.json" if "metadata.json" in entries else entries[0]).decode()
                    metadata = json.loads(text) if text.lstrip().startswith("{") else ast.literal_eval(text)
        elif fmt == "openvino":
            folder = path if path.is_dir() else path.parent
            sidecar = folder / "metadata.yaml"
            metadata = yaml.safe_load(sidecar.read_text()) if sidecar.exists() else {}
    except (zipfile.BadZipFile, OSError, ValueError, SyntaxError, yaml.YAMLError):
        return {}
    return parse_names(metadata.get("names") if isinstance(metadata, dict) else None)


def parse_names(names: object) -> dict[int, str]:
    """Class names as exporters write them: a dict, a list, or either one as Python literal text."""
    if isinstance(names, str):
        try:
            names = ast.literal_eval(names)
        except (ValueError, SyntaxError):
            return {}
    if isinstance(names, list):
        names = dict(enumerate(names))
    return {int(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}
