"""Detector settings: which weights, how big an input, how often to run."""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator

from models.base import SHA256_PATTERN, StrictModel

TrackerKind = Literal["flow", "bytetrack", "ocsort", "botsort"]
TRACKER_KINDS: tuple[str, ...] = get_args(TrackerKind)


class DetectorConfig(StrictModel):
    model: Annotated[
        str,
        Field(
            min_length=1,
            description=".tflite, .onnx or an OpenVINO folder (each runs on its own runtime, no torch needed); "
            ".pt weights need the full install (Ultralytics).",
        ),
    ] = "yolov8n.pt"
    sha256: Annotated[str | None, Field(pattern=SHA256_PATTERN, description="Verified before the model is loaded.")] = (
        None
    )
    imgsz: Annotated[int, Field(ge=32, le=1920, description="Inference size in pixels, a multiple of 32.")] = 640
    fit_input: Annotated[
        bool,
        Field(
            description="Run a .tflite YOLO export at the shape of the source's frames (640x384 for 16:9) instead of "
            "the square it was exported at: the same weights, about 40% less work on a 16:9 frame. Events name the "
            "fitted model and its sha256; `curbwatch model fit` writes that file from the pinned one.",
        ),
    ] = True
    low_light_below: Annotated[
        float | None,
        Field(
            ge=0.0,
            le=255.0,
            description="Mean grey level (0-255) of a frame under which its contrast is evened out (CLAHE on its "
            "lightness) before the detector sees it; evidence is not changed. null: never. On darkened frames of "
            "the shared clips it found 3-4 more people in 100 below a mean of 30, and cost 2 in 100 on daylight "
            "frames, hence only when dark (docs/accuracy.md).",
        ),
    ] = 30.0
    confidence: Annotated[float, Field(gt=0.0, lt=1.0, description="Lowest detection score kept.")] = 0.25
    iou: Annotated[float, Field(gt=0.0, lt=1.0, description="Non-maximum suppression overlap.")] = 0.5
    fps: Annotated[
        float,
        Field(
            ge=0.5,
            le=60.0,
            description="Detections per second; the detector runs on every Nth frame, N the largest that keeps at "
            "least this rate for the source's frame rate (a 30 fps camera: every 7th frame, 4.3 a second; 10 fps: "
            "every 2nd). Above what the rules' shortest time window needs (3 samples in 1 s); the flow tracker "
            "carries people between detections, and on the labelled clips 4 a second finds every jaywalker that 6 "
            "or every frame finds (docs/accuracy.md).",
        ),
    ] = 4.0
    stride: Annotated[
        int | None,
        Field(ge=1, le=30, description="Run the detector on every Nth frame whatever the frame rate; wins over fps."),
    ] = None
    idle_fps: Annotated[
        float | None,
        Field(
            gt=0.0,
            le=60.0,
            description="Detections per second while nothing moves outside `ignore` zones (people standing still and "
            "items on the ground stay seen at this rate); null runs at `fps` whatever moves.",
        ),
    ] = 1.0
    regions: Annotated[
        bool,
        Field(
            description="Detect only where it matters: inside the box around the rule zones (grown by a person's "
            "height above them, at the whole frame's pixel scale), and there, between whole looks, only in up to "
            "three squares around the people being followed and what moved (each at a 320x320 input); what the "
            "detector never looks at is pixelated in evidence. .tflite YOLO exports only (others look at the whole "
            "frame). false: the whole frame on every detection.",
        ),
    ] = True
    full_fps: Annotated[
        float,
        Field(
            gt=0.0,
            le=60.0,
            description="With `regions`: looks a second at the whole of the zones' box, so a person who came in "
            "without moving, or whom the regions missed, is found within this long.",
        ),
    ] = 1.0
    threads: Annotated[
        int | None,
        Field(
            ge=1,
            le=64,
            description="CPU threads of the model runtime; default the box's cores shared among the cameras that "
            "`edge run` starts together (all of them for one camera).",
        ),
    ] = None
    tracker: Annotated[
        TrackerKind,
        Field(
            description="Tracker (boxes and motion only, never appearance). `flow` carries each track's box through "
            "the frames between detections by optical flow and never continues a track further than a person can "
            "walk in the time; the others see only the detections (bytetrack was the default before it).",
        ),
    ] = "flow"
    device: Annotated[
        str, Field(description="For .pt weights: 'cpu', or an accelerator Ultralytics knows ('0', 'cuda:0').")
    ] = "cpu"

    def schedule(self) -> str:
        """How often the detector runs, in a sentence; says which of `stride` and `fps` wins."""
        rest = f"; while nothing moves, {self.idle_fps:g} a second" if self.idle_fps is not None else ""
        if self.stride is not None:
            return (
                f"detector.stride {self.stride} is set and wins over detector.fps {self.fps:g}: the detector runs on "
                f"{_every(self.stride)} whatever the source's frame rate{rest}"
            )
        examples = "; ".join(f"{fps:g} fps: {_every(self.stride_for(fps))}" for fps in (10.0, 25.0, 30.0))
        return f"detector.fps {self.fps:g}: at least {self.fps:g} detections a second (a source of {examples}){rest}"

    def stride_for(self, source_fps: float) -> int:
        """The stride for a source of this frame rate (0 when unknown): `stride` when set, else the largest that
        still gives at least `fps` detections a second, within 1% (a 29.97 fps camera counts as 30)."""
        if self.stride is not None:
            return self.stride
        if source_fps <= 0:
            return 1
        return max(1, int(source_fps / (self.fps * 0.99)))

    @field_validator("imgsz")
    @classmethod
    def _multiple_of_32(cls, value: int) -> int:
        if value % 32:
            raise ValueError(f"must be a multiple of 32 (nearest: {max(32, round(value / 32) * 32)})")
        return value


def _every(stride: int) -> str:
    if stride == 1:
        return "every frame"
    suffix = {2: "nd", 3: "rd"}.get(stride % 10 if stride % 100 not in (12, 13) else 0, "th")
    return f"every {stride}{suffix} frame"
