"""A square LiteRT export run at the shape of the camera's frames.

Ultralytics exports YOLO detectors with a square input (640x640), so a 16:9 frame is letterboxed and about
40 % of every run convolves grey bars. The network itself is fully convolutional: only a few constants pin the
square, namely the upsampling sizes, the reshapes that flatten each grid, and the anchor points and strides of
the box decoder. Rewriting those for another input size (both sides multiples of the largest stride, 32) gives
the same weights at the frame's shape. The rewrite is deterministic: the same file and size always give the
same bytes, so `curbwatch model fit` writes exactly the model a camera ran, with the sha256 its events name."""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections.abc import Callable

import numpy as np

from edge.detect.model_file import ModelError

STRIDES = (8, 16, 32)
"""The YOLOv8 detection head's three grids, in pixels of the input per cell."""
_FLOAT32, _INT32 = 0, 2
"""TFLite tensor type codes."""
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
"""A fixed timestamp for the appended metadata, so the bytes do not depend on when they were made."""


def fitted_size(frame_width: int, frame_height: int, side: int) -> tuple[int, int]:
    """Input (height, width) for a frame: the longer side keeps the model's `side`, the shorter one is what the
    frame's shape asks for, rounded up to a multiple of 32 (so at most 31 pixels of bars are left)."""
    if frame_width <= 0 or frame_height <= 0:
        return side, side
    short = side * min(frame_width, frame_height) / max(frame_width, frame_height)
    fitted = min(side, max(STRIDES[-1], math.ceil(short / STRIDES[-1]) * STRIDES[-1]))
    return (fitted, side) if frame_width >= frame_height else (side, fitted)


def anchor_constants(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The decoder's constants of a LiteRT export: anchor centres (1, 2, anchors) and the stride of each anchor
    (1, 4, anchors), both as fractions of the input's width (x) and height (y), grid by grid."""
    points, strides = [], []
    for stride in STRIDES:
        ys, xs = np.meshgrid(np.arange(height // stride) + 0.5, np.arange(width // stride) + 0.5, indexing="ij")
        points.append(np.stack([xs.ravel() * stride / width, ys.ravel() * stride / height]))
        per_axis = np.array([[stride / width], [stride / height], [stride / width], [stride / height]])
        strides.append(np.repeat(per_axis, xs.size, axis=1))
    return (
        np.concatenate(points, axis=1)[None].astype(np.float32),
        np.concatenate(strides, axis=1)[None].astype(np.float32),
    )


def _cells(height: int, width: int) -> list[int]:
    """Cells of each grid, then all of them: the numbers the flattening reshapes name."""
    cells = [(height // s) * (width // s) for s in STRIDES]
    return [*cells, sum(cells)]


def refit(data: bytes, size_for: Callable[[int], tuple[int, int]]) -> tuple[bytes, tuple[int, int]]:
    """The LiteRT YOLO detection export `data` with its input set to `size_for(side of the square export)`, as
    (height, width); returns the new model's bytes and that size. ModelError when the file is not laid out as
    such an export (then it can only run at its own input size)."""
    rewrite = _unpacked(data)
    import flatbuffers  # after LiteRT, which brings it, was found

    height, width = size_for(rewrite.side)
    if height % STRIDES[-1] or width % STRIDES[-1] or min(height, width) < STRIDES[-1]:
        raise ModelError(f"a fitted input must be a multiple of {STRIDES[-1]} on each side, not {width}x{height}")
    rewrite.apply(height, width)
    builder = flatbuffers.Builder(len(data))
    builder.Finish(rewrite.model.Pack(builder), file_identifier=b"TFL3")  # type: ignore[attr-defined]
    return bytes(builder.Output()) + _metadata(data, height, width), (height, width)


def check_refittable(data: bytes) -> None:
    """ModelError unless `refit` can rewrite `data`: the same checks, without building a new model (a fifth of the
    cost, which every camera with detection regions pays at start)."""
    rewrite = _unpacked(data)
    rewrite.changes(rewrite.side, rewrite.side)


def _unpacked(data: bytes) -> _Rewrite:
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        raise ModelError("fitting a .tflite model needs LiteRT: pip install 'curbwatch[box]'") from None
    try:
        model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception as exc:  # flatbuffers raises whatever a truncated or foreign buffer trips over
        raise ModelError(f"not a LiteRT model: {exc}") from None
    return _Rewrite(model, schema)


class _Rewrite:
    """The constants of one export that pin its square input, found by the ops that use them and checked
    against what a square export must hold before anything is changed."""

    def __init__(self, model: object, schema: object) -> None:
        self.model = model
        if len(model.subgraphs) != 1:  # type: ignore[attr-defined]
            raise ModelError("not a YOLO detection export: more than one subgraph")
        self.graph = model.subgraphs[0]  # type: ignore[attr-defined]
        codes = {value: name for name, value in vars(schema.BuiltinOperator).items() if not name.startswith("_")}  # type: ignore[attr-defined]
        self.ops = [
            (codes.get(max(code.builtinCode, code.deprecatedBuiltinCode), "?"), op)
            for op in self.graph.operators
            for code in [model.operatorCodes[op.opcodeIndex]]  # type: ignore[attr-defined]
        ]
        self.source = self.graph.tensors[self.graph.inputs[0]]
        shape = [int(d) for d in self.source.shape]
        if len(shape) != 4 or shape[3] != 3 or shape[1] != shape[2] or shape[1] % STRIDES[-1]:
            raise ModelError(f"not a square channels-last YOLO export (input {shape})")
        self.side = shape[1]

    def _constant(self, index: int) -> np.ndarray | None:
        tensor = self.graph.tensors[index]
        raw = self.model.buffers[tensor.buffer].data  # type: ignore[attr-defined]
        if raw is None or len(raw) == 0 or tensor.type not in (_FLOAT32, _INT32):
            return None
        kind = np.float32 if tensor.type == _FLOAT32 else np.int32
        return np.frombuffer(bytes(raw), kind).reshape([int(d) for d in tensor.shape])

    def _store(self, index: int, value: np.ndarray) -> None:
        tensor = self.graph.tensors[index]
        kind = np.float32 if tensor.type == _FLOAT32 else np.int32
        self.model.buffers[tensor.buffer].data = np.ascontiguousarray(value, dtype=kind).tobytes()  # type: ignore[attr-defined]
        tensor.shape = [int(d) for d in value.shape]

    def changes(self, height: int, width: int) -> list[tuple[str, int, np.ndarray]]:
        """Each constant to rewrite for an input of `height` x `width`: its kind, tensor and new value."""
        changes = self._upsampling(height, width) + self._flattening(height, width) + self._decoder(height, width)
        kinds = {kind for kind, _index, _value in changes}
        if kinds != {"upsample", "reshape", "anchors", "strides"}:
            raise ModelError(f"not a YOLOv8 detection export: found only {sorted(kinds) or 'none'} of its constants")
        return changes

    def apply(self, height: int, width: int) -> None:
        for _kind, index, value in self.changes(height, width):
            self._store(index, value)
        self.source.shape = [1, height, width, 3]
        for tensor in self.graph.tensors:
            # Shapes between the ops are worked out again when the runtime loads the model.
            tensor.shapeSignature = None

    def _upsampling(self, height: int, width: int) -> list[tuple[str, int, np.ndarray]]:
        found = []
        for kind, op in self.ops:
            size = self._constant(op.inputs[1]) if kind == "RESIZE_NEAREST_NEIGHBOR" else None
            if size is None:
                continue
            if size.shape != (2,) or size[0] != size[1] or self.side % int(size[0]):
                raise ModelError(f"unexpected upsampling size {size.tolist()} in a {self.side}x{self.side} export")
            stride = self.side // int(size[0])
            found.append(("upsample", op.inputs[1], np.array([height // stride, width // stride])))
        return found

    def _flattening(self, height: int, width: int) -> list[tuple[str, int, np.ndarray]]:
        renumber = dict(zip(_cells(self.side, self.side), _cells(height, width), strict=True))
        found, seen = [], set()
        for kind, op in self.ops:
            if kind != "RESHAPE" or len(op.inputs) < 2 or op.inputs[1] in seen:
                continue
            target = self._constant(op.inputs[1])
            if target is not None and any(int(d) in renumber for d in target.ravel()):
                seen.add(op.inputs[1])
                found.append(("reshape", op.inputs[1], np.array([renumber.get(int(d), int(d)) for d in target])))
        return found

    def _decoder(self, height: int, width: int) -> list[tuple[str, int, np.ndarray]]:
        square_points, square_strides = anchor_constants(self.side, self.side)
        points, strides = anchor_constants(height, width)
        found, seen = [], set()
        for _kind, op in self.ops:
            for index in op.inputs:
                value = None if index < 0 or index in seen else self._constant(index)
                if value is None or value.dtype != np.float32:
                    continue
                for kind, square, fitted in (("anchors", square_points, points), ("strides", square_strides, strides)):
                    if value.shape == square.shape and np.allclose(value, square, atol=1e-6):
                        seen.add(index)
                        found.append((kind, index, fitted))
        return found


def _metadata(data: bytes, height: int, width: int) -> bytes:
    """Ultralytics appends its metadata (class names, input size) to the file as a zip; the fitted file carries
    the same, with the new input size."""
    try:
        start = data.rindex(b"PK\x03\x04")
        with zipfile.ZipFile(io.BytesIO(data[start:])) as bundle:
            name = bundle.namelist()[0]
            text = bundle.read(name).decode()
    except (ValueError, IndexError, zipfile.BadZipFile, UnicodeDecodeError):
        return b""
    try:
        metadata = json.loads(text)
        metadata["imgsz"] = [height, width]
        text = json.dumps(metadata)
    except (ValueError, TypeError):
        pass  # older exports wrote a Python literal; the names in it still hold
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), text)
    return out.getvalue()
