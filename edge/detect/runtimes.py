"""The model runtimes a camera box uses instead of torch: each model format runs in its own runtime (LiteRT
for `.tflite`, ONNX Runtime for `.onnx`, OpenVINO for an IR folder). Each session takes one letterboxed
frame and returns the model's raw output rows in model-input pixels."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from edge.detect.model_file import ModelError, model_format, parse_names, stored_names


class Session(Protocol):
    runtime: str
    """The runtime's name and version, for the log line at start."""
    input_size: tuple[int, int]
    """Height and width of the model input."""
    names: dict[int, str]

    def run(self, image: np.ndarray) -> np.ndarray:
        """Raw output, shape (1, 4 + classes, anchors), for one RGB HWC float image of `input_size`."""
        ...


BOX_CAMERAS_ENV = "CURBWATCH_BOX_CAMERAS"
"""Set by whatever starts several camera processes on one box (`edge run` with several configs, `bench box`)."""


def default_threads() -> int:
    """The box's cores shared out among its camera processes. Four cameras on two cores, each running the model
    on both, spend more on contention than they gain: measured with `bench box`, one thread each let four 30 fps
    cameras keep up where two did not."""
    cameras = os.environ.get(BOX_CAMERAS_ENV, "")
    share = int(cameras) if cameras.isdigit() and int(cameras) > 0 else 1
    return max(1, (os.cpu_count() or 1) // share)


def _layout(shape: list, imgsz: int) -> tuple[bool, tuple[int, int]]:
    """Whether an input shape is channels-last, and its height and width; a dynamic dimension (exported with
    `dynamic=True`) takes `imgsz`."""
    nhwc = shape[-1] == 3
    dims = shape[1:3] if nhwc else shape[2:4]
    return nhwc, tuple(int(d) if isinstance(d, int) and d > 0 else imgsz for d in dims)  # type: ignore[return-value]


def _batch(image: np.ndarray, nhwc: bool) -> np.ndarray:
    """One HWC image as a contiguous batch of one, in the model's layout."""
    return np.ascontiguousarray(image[None] if nhwc else image.transpose(2, 0, 1)[None])


class LiteRTSession:
    """A `.tflite` model; Ultralytics' LiteRT exports give boxes normalised to the input, scaled back here."""

    def __init__(self, path: Path, threads: int, imgsz: int, content: bytes | None = None) -> None:
        """`content`, when given, is the model to run in place of the file's bytes (a fitted input)."""
        try:
            from ai_edge_litert import __version__ as version
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise ModelError(f"{path.name} needs LiteRT: pip install 'curbwatch[box]'") from None
        try:
            model_path = str(path) if content is None else None
            self._interpreter = Interpreter(model_path=model_path, model_content=content, num_threads=threads)
            self._interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"cannot load model {path}: {str(exc).strip().splitlines()[0]}") from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._nhwc, self.input_size = _layout([int(d) for d in self._input["shape"]], imgsz)
        self.runtime = f"LiteRT {version}"
        self.names = stored_names(path)

    def run(self, image: np.ndarray) -> np.ndarray:
        batch = _batch(image, self._nhwc)
        kind = self._input["dtype"]
        if kind in (np.int8, np.int16, np.uint8):  # fully integer models quantise their input
            scale, zero = self._input["quantization"]
            limits = np.iinfo(kind)
            batch = np.clip(batch / scale + zero, limits.min, limits.max).astype(kind)
        self._interpreter.set_tensor(self._input["index"], batch)
        self._interpreter.invoke()
        out = self._interpreter.get_tensor(self._output["index"])
        if self._output["dtype"] in (np.int8, np.int16, np.uint8):
            scale, zero = self._output["quantization"]
            out = (out.astype(np.float32) - zero) * scale
        out = out.astype(np.float32, copy=True)
        out[:, [0, 2]] *= self.input_size[1]
        out[:, [1, 3]] *= self.input_size[0]
        return out


class OnnxRuntimeSession:
    """An `.onnx` model on ONNX Runtime's CPU provider; the class names are in the model's metadata."""

    def __init__(self, path: Path, threads: int, imgsz: int) -> None:
        try:
            import onnxruntime
        except ImportError:
            raise ModelError(f"{path.name} needs ONNX Runtime: pip install 'curbwatch[box]'") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ONNX Runtime raises its own unexported exception types for bad files
            raise ModelError(f"cannot load model {path}: {str(exc).strip().splitlines()[0]}") from None
        model_input = self._session.get_inputs()[0]
        self._name = model_input.name
        self._nhwc, self.input_size = _layout(list(model_input.shape), imgsz)
        self.runtime = f"ONNX Runtime {onnxruntime.__version__}"
        self.names = parse_names(self._session.get_modelmeta().custom_metadata_map.get("names"))

    def run(self, image: np.ndarray) -> np.ndarray:
        return self._session.run(None, {self._name: _batch(image, self._nhwc)})[0]


class OpenVINOSession:
    """An OpenVINO IR (the folder Ultralytics exports, or its `.xml`), compiled for the CPU."""

    def __init__(self, path: Path, threads: int, imgsz: int) -> None:
        try:
            import openvino
        except ImportError:
            raise ModelError(f"{path.name} needs OpenVINO: pip install 'curbwatch[openvino]'") from None
        xml = next(iter(sorted(path.glob("*.xml"))), None) if path.is_dir() else path
        if xml is None:
            raise ModelError(f"cannot load model {path}: no .xml file in the folder")
        core = openvino.Core()
        try:
            model = core.read_model(str(xml))
            self._compiled = core.compile_model(
                model, "CPU", {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
            )
        except RuntimeError as exc:
            raise ModelError(f"cannot load model {path}: {str(exc).strip().splitlines()[0]}") from None
        shape = [d.get_length() if d.is_static else -1 for d in model.inputs[0].get_partial_shape()]
        self._nhwc, self.input_size = _layout(shape, imgsz)
        self.runtime = f"OpenVINO {openvino.__version__}"
        self.names = stored_names(path)

    def run(self, image: np.ndarray) -> np.ndarray:
        return np.asarray(self._compiled([_batch(image, self._nhwc)])[0])


RUNTIMES: dict[str, type] = {"tflite": LiteRTSession, "onnx": OnnxRuntimeSession, "openvino": OpenVINOSession}


def open_session(path: Path, threads: int | None, imgsz: int, fitted: bytes | None = None) -> Session:
    """The runtime session for a model file, or for `fitted`, the bytes of a `.tflite` file refitted to another
    input size (edge.detect.fitted_input); ModelError names the package to install when it is missing."""
    fmt = model_format(path)
    if fmt not in RUNTIMES:
        raise ModelError(f"no model runtime for {path.name} (format {fmt}); use .tflite, .onnx or an OpenVINO folder")
    if fitted is not None:
        return LiteRTSession(path, threads or default_threads(), imgsz, fitted)
    return RUNTIMES[fmt](path, threads or default_threads(), imgsz)
