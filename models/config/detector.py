"""Detector settings: which weights, how big an input, how often to run."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from models.base import SHA256_PATTERN, StrictModel


class DetectorConfig(StrictModel):
    model: Annotated[
        str,
        Field(min_length=1, description="Any file Ultralytics loads: .pt, .onnx, an OpenVINO folder, .tflite."),
    ] = "yolov8n.pt"
    sha256: Annotated[str | None, Field(pattern=SHA256_PATTERN, description="Verified before the model is loaded.")] = (
        None
    )
    imgsz: Annotated[int, Field(ge=32, le=1920, description="Inference size in pixels, a multiple of 32.")] = 640
    confidence: Annotated[float, Field(gt=0.0, lt=1.0, description="Lowest detection score kept.")] = 0.25
    iou: Annotated[float, Field(gt=0.0, lt=1.0, description="Non-maximum suppression overlap.")] = 0.5
    stride: Annotated[int, Field(ge=1, le=30, description="Run the detector on every Nth frame.")] = 1
    tracker: Annotated[Literal["bytetrack", "botsort"], Field(description="Ultralytics tracker.")] = "bytetrack"
    device: Annotated[str, Field(description="'cpu', or an accelerator Ultralytics knows ('0', 'cuda:0').")] = "cpu"

    @field_validator("imgsz")
    @classmethod
    def _multiple_of_32(cls, value: int) -> int:
        if value % 32:
            raise ValueError(f"must be a multiple of 32 (nearest: {max(32, round(value / 32) * 32)})")
        return value
