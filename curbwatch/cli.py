"""`curbwatch` console script: one group, subcommands for each side. Heavy imports stay inside commands
so `--help` answers instantly."""

from __future__ import annotations

import json
import logging
import sys

import click
import yaml

from central.cli import central
from common.cli_errors import ReportsErrorsGroup, fail
from curbwatch import __version__
from curbwatch.bench_capacity import bench_capacity
from curbwatch.bench_console import bench_console
from curbwatch.bench_ingest import bench_ingest
from curbwatch.keys_cli import keys
from edge.cli import edge
from models.config import load_camera_config
from models.config.detector import TRACKER_KINDS


@click.group(cls=ReportsErrorsGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="curbwatch")
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
    default="INFO",
    show_default=True,
    help="How much to log on stderr.",
)
def cli(log_level: str) -> None:
    """curbwatch: notice jaywalking and littering at the edge; review them centrally before any points change."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # Alembic logs one line per built-in plugin it sets up, on every migration check: noise before each command.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


cli.add_command(edge)
cli.add_command(central)
cli.add_command(keys)


@cli.command("check-config")
@click.argument("config_file", type=click.Path(dir_okay=False))
def check_config(config_file: str) -> None:
    """Validate CONFIG_FILE and print the effective configuration (every default filled in).

    Prints one line per problem and exits 2 when the file is not valid."""
    from edge.regions import describe as describe_regions

    config = load_camera_config(config_file)
    click.echo(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False), nl=False)
    click.echo(f"# {config.detector.schedule()}")
    click.echo(f"# {describe_regions(config.zones, config.detector)}")


@cli.command("schema")
@click.argument("name", required=False, type=click.Choice(["infraction", "status", "camera-config"]))
def schema(name: str | None) -> None:
    """Print the JSON Schema of each message (or only NAME)."""
    from models.config import CameraConfig
    from models.infraction import InfractionMessage
    from models.status import StatusMessage

    schemas = {
        "infraction": InfractionMessage.model_json_schema(by_alias=True),
        "status": StatusMessage.model_json_schema(by_alias=True),
        "camera-config": CameraConfig.model_json_schema(),
    }
    click.echo(json.dumps(schemas[name] if name else schemas, indent=2))


@cli.command("config-reference")
def config_reference_command() -> None:
    """Print the camera configuration reference as a Markdown table (the one in docs/config.md)."""
    from curbwatch.reference import config_reference

    click.echo(config_reference(), nl=False)


@cli.command("demo")
@click.option("--video", type=click.Path(dir_okay=False), help="Replay this clip into the demo, as a camera would.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    help="Camera YAML for the video; default examples/VIDEO_NAME.yaml. Never modified.",
)
@click.option(
    "--data-dir",
    default="demo-data",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Database, keys, evidence, broker state and logs; kept between runs.",
)
@click.option("--http-port", type=click.IntRange(1, 65535), help="Console port [default: 8080, or a free one].")
@click.option("--mqtt-port", type=click.IntRange(1, 65535), help="Broker port [default: 1883, or a free one].")
@click.option(
    "--broker-impl",
    type=click.Choice(["auto", "mosquitto", "python"]),
    default="auto",
    show_default=True,
    help="auto: a private Mosquitto when installed, else the embedded Python MQTT 5 broker.",
)
@click.option("--max-frames", type=click.IntRange(min=1), help="Replay only this many frames.")
@click.option("--realtime", is_flag=True, help="Pace the replay to the video's frame rate.")
@click.option("--replay-again", is_flag=True, help="Replay a video this data folder has seen (new events again).")
def demo(
    video: str | None,
    config_file: str | None,
    data_dir: str,
    http_port: int | None,
    mqtt_port: int | None,
    broker_impl: str,
    max_frames: int | None,
    realtime: bool,
    replay_again: bool,
) -> None:
    """Run a broker, the central worker and console on 127.0.0.1, a first admin account and, with --video, an
    edge replay publishing into them, until Ctrl-C. A rerun keeps the data (and replays a video only once)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its step-by-step lines would bury the banner
    from pathlib import Path

    from central.console.first_admin import ensure_first_admin
    from central.db import make_engine, session_factory
    from central.migrate import upgrade
    from curbwatch.demo import DEFAULT_HTTP_PORT, DEFAULT_MQTT_PORT, Demo, DemoOptions, choose_port
    from curbwatch.demo_camera import choose_camera
    from curbwatch.demo_folder import DemoFolder

    folder = DemoFolder(Path(data_dir))
    folder.lock()
    camera = choose_camera(video, config_file)
    ports = (
        choose_port(http_port, DEFAULT_HTTP_PORT, "--http-port", "console"),
        choose_port(mqtt_port, DEFAULT_MQTT_PORT, "--mqtt-port", "broker"),
    )
    upgrade(folder.db_url)
    engine = make_engine(folder.db_url)
    try:
        password = ensure_first_admin(session_factory(engine), "demo")
    finally:
        engine.dispose()
    options = DemoOptions(folder, camera, *ports, broker_impl, max_frames, realtime, replay_again)
    raise SystemExit(Demo(options).run(password))


@cli.command("eval")
@click.argument("labels", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--model", type=click.Path(), help="Detector weights for every clip; overrides each config's.")
@click.option(
    "--verbose", "-v", is_flag=True, help="List every predicted event, the label it matched and every missed label."
)
@click.option("--fps", type=click.FloatRange(0.5, 60.0), help="Detections per second; overrides detector.fps.")
@click.option("--stride", type=click.IntRange(1, 30), help="Detector on every Nth frame; overrides detector.stride.")
@click.option("--tracker", type=click.Choice(TRACKER_KINDS), help="Tracker; overrides detector.tracker.")
@click.option(
    "--regions/--no-regions",
    default=None,
    help="Detect only in the zones' part of the frame and around people and motion, or on the whole frame; "
    "overrides detector.regions.",
)
@click.option(
    "--rates",
    help="Evaluate at each of these detection rates, e.g. 3,4,6,12,every ('every': a detection on every frame) "
    "and print one Markdown table per rate, clip and type, with the events that joined two labelled people.",
)
def evaluate(
    labels: tuple[str, ...],
    model: str | None,
    verbose: bool,
    fps: float | None,
    stride: int | None,
    tracker: str | None,
    regions: bool | None,
    rates: str | None,
) -> None:
    """Replay each labelled clip in LABELS (one or more files) and print precision, recall and F1 per type.

    Each clip's line lists its predicted and labelled frame ranges, so a miss can be looked up. A predicted event
    matches a labelled one of the same type whose frame range overlaps it (widened by the clip's `slack_s`). Where
    labels give a path, a second table also asks the event's track to be near that path ("by place") when the two
    counts differ. With --rates, the same at several detection rates in one table."""
    from edge.evaluate import describe, evaluate, parse_rates, rate_overrides, rates_table, totals
    from edge.scoring import score_table

    given = (("fps", fps), ("stride", stride), ("tracker", tracker), ("regions", regions))
    overrides = {k: v for k, v in given if v is not None}
    if rates is not None:
        if fps is not None or stride is not None:
            raise click.BadParameter("give either --rates or --fps/--stride", param_hint="--rates")
        try:
            chosen = parse_rates(rates)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--rates") from None
        by_rate = [
            (rate, evaluate(list(labels), model, progress=False, detector={**overrides, **rate_overrides(rate)}))
            for rate in chosen
        ]
        click.echo(rates_table(by_rate))
        return
    results = evaluate(list(labels), model, detector=overrides)
    for result in results:
        predicted = ", ".join(f"{s.type} {s.frame_start}-{s.frame_end}" for s in result.predicted) or "none"
        expected = ", ".join(f"{s.type} {s.frame_start}-{s.frame_end}" for s in result.expected) or "none"
        click.echo(f"{result.video}: predicted [{predicted}]; labelled [{expected}]")
    if verbose:
        for result in results:
            click.echo("\n".join(describe(result)))
    overlap, located = totals(results), totals(results, located=True)
    click.echo(score_table(overlap))
    if located != overlap:
        click.echo("by overlap and place (labels with a path):")
        click.echo(score_table(located))


@cli.group("bench")
def bench() -> None:
    """Benchmarks that print figures as ratios against a baseline measured in the same run."""


@bench.command("edge")
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False), help="Camera YAML.")
@click.option("--video", type=click.Path(dir_okay=False), help="Clip to replay; default: the config's source.uri.")
@click.option("--model", help="Weights (.pt, .onnx, OpenVINO folder, .tflite) or an architecture such as yolov8n.yaml.")
@click.option("--imgsz", type=click.IntRange(32, 1920), help="Inference size; overrides detector.imgsz.")
@click.option(
    "--stride", type=click.IntRange(1, 30), help="Run the detector every Nth frame; overrides detector.stride."
)
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames.")
def bench_edge(
    config_file: str,
    video: str | None,
    model: str | None,
    imgsz: int | None,
    stride: int | None,
    max_frames: int | None,
) -> None:
    """Source frames per second, per-stage milliseconds (decode, detect, track, rules, redact, encode) and the
    ratio to the clip's real time, measured in the same run."""
    from edge.bench import bench as run_bench
    from models.config.camera import parse_camera_config

    config = load_camera_config(config_file)
    overrides = {k: v for k, v in (("imgsz", imgsz), ("stride", stride)) if v is not None}
    if overrides:
        data = config.model_dump(mode="json")
        data["detector"].update(overrides)
        config = parse_camera_config(data, config_file)
    result = run_bench(video or config.source.uri, config, model, max_frames)
    click.echo(result.report())


def _scale_list(_ctx: click.Context, _param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of camera counts, e.g. 1,2,4,8") from None
    if not counts or min(counts) < 1:
        raise click.BadParameter("camera counts must be 1 or more, e.g. 1,2,4,8")
    return counts


camera_clips = click.option(
    "--config",
    "config_files",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Camera YAML whose source.uri is a video file; repeat for several cameras.",
)
"""The cameras a bench replays, one config each."""


@bench.command("box")
@camera_clips
@click.option(
    "--scale",
    callback=_scale_list,
    metavar="N[,N...]",
    help="Run this many cameras at once, for each count in turn (e.g. 1,2,4,8), repeating the configs in turn; "
    "default: one camera per --config.",
)
@click.option(
    "--pace",
    type=click.Choice(["fast", "realtime", "both"]),
    default="fast",
    show_default=True,
    help="fast: replay as fast as possible (capacity ratio, and whether each process ends within its clip); "
    "realtime: paced like a live camera (lag behind it); both: one after the other.",
)
@click.option(
    "--threads", type=click.IntRange(1, 64), help="Runtime CPU threads per camera; overrides detector.threads."
)
@click.option(
    "--fps", type=click.FloatRange(0.5, 60.0), help="Detections per second; overrides detector.fps (and clears stride)."
)
@click.option(
    "--input",
    "model_input",
    type=click.Choice(["fitted", "square"]),
    help="fitted: the model's input fitted to each clip's frames; square: the model's own input; overrides "
    "detector.fit_input.",
)
@click.option(
    "--tracker",
    "trackers",
    multiple=True,
    type=click.Choice(TRACKER_KINDS),
    help="Overrides detector.tracker; repeat to measure each set with each tracker in turn, in this run (e.g. "
    "--tracker bytetrack --tracker flow: the tracker before issue 21 against today's).",
)
@click.option(
    "--baseline",
    is_flag=True,
    help="Measure each set twice in turn, first as the defaults before detection regions had it (detector.regions "
    "off, detector.fps 6 where the config leaves it), then as configured, and print cores per camera at 1x of "
    "the two and their ratio, per camera and for the box.",
)
@click.option("--max-frames", type=click.IntRange(min=1), help="Each camera stops after this many frames.")
@click.option("--repeat", type=click.IntRange(1, 20), default=1, show_default=True, help="Measure each set this often.")
def bench_box(
    config_files: tuple[str, ...],
    scale: list[int] | None,
    pace: str,
    threads: int | None,
    fps: float | None,
    model_input: str | None,
    trackers: tuple[str, ...],
    baseline: bool,
    max_frames: int | None,
    repeat: int,
) -> None:
    """Run several cameras at once on this machine, one process each as on a camera box, all started together,
    each replaying its config's clip with evidence written. Prints one row per camera (ratio to real time,
    detections/s, start-up and model load, ms per frame per stage, CPU, peak memory) and the box's summary row
    (the cameras' share of all cores, how busy the whole machine was, whether every camera keeps up); with
    --scale, a summary row per camera count."""
    import tempfile
    from pathlib import Path

    from edge.bench_box import baseline_table, describe, plan_cameras, run_box, summary_table
    from edge.detector import ModelError, resolve_model
    from edge.source import SourceError, VideoSource, source_kind

    configs = [(Path(f), load_camera_config(f)) for f in config_files]
    for path, config in configs:
        if source_kind(config.source.uri) != "file":
            fail(f"{path}: source.uri must be a video file to replay, not {config.source.uri}")
        try:
            VideoSource(config.source.uri).close()
            resolve_model(config.detector.model)
        except (ModelError, SourceError) as exc:
            fail(f"{path}: {exc}")
    paces = ["fast", "realtime"] if pace == "both" else [pace]
    runs = []
    for count in scale or [len(configs)]:
        for current in paces:
            for attempt in range(1, repeat + 1):
                # Variants alternate within each repeat, so a machine that slows down weighs on all alike.
                for tracker in trackers or (None,):
                    for before in (True, False) if baseline else (False,):
                        with tempfile.TemporaryDirectory(prefix="curbwatch-box-") as scratch:
                            fit = None if model_input is None else model_input == "fitted"
                            plans = plan_cameras(configs, count, Path(scratch), threads, fps, fit, tracker, before)
                            run = run_box(plans, current, max_frames)
                        runs.append(run)
                        title = f"run {attempt} of {repeat}: " if repeat > 1 else ""
                        click.echo(f"{title}{describe(run)}\n")
    if len(runs) > 1:
        click.echo(summary_table(runs))
    if baseline:
        click.echo("\n" + baseline_table(list(zip(runs[::2], runs[1::2], strict=True))))


@bench.command("detect")
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False), help="Camera YAML.")
@click.option(
    "--model",
    "models",
    multiple=True,
    help="A candidate's weights, run by its own runtime; repeat for several. Default: the config's model.",
)
@click.option(
    "--baseline",
    type=click.Choice(["ultralytics", "native"]),
    default="ultralytics",
    show_default=True,
    help="Run the first model through Ultralytics (the full install) or its own runtime as the baseline.",
)
@click.option("--video", "videos", multiple=True, type=click.Path(dir_okay=False), help="Clips; default: source.uri.")
@click.option("--frames", type=click.IntRange(2, 1000), default=8, show_default=True, help="Frames per clip.")
@click.option("--threads", type=click.IntRange(1, 64), help="Runtime CPU threads; overrides detector.threads.")
def bench_detect(
    config_file: str,
    models: tuple[str, ...],
    baseline: str,
    videos: tuple[str, ...],
    frames: int,
    threads: int | None,
) -> None:
    """Milliseconds per detection of each model against a baseline measured in the same run, and the share of
    the baseline's person boxes each one finds too (IoU 0.5), on frames spread over real clips. A .tflite model
    is also run with its input fitted to each clip's frames (detector.fit_input)."""
    from edge.bench_detect import Candidate, bench_detect, report, sample_frames

    config = load_camera_config(config_file)
    detector = config.detector.model_copy(update={"threads": threads}) if threads else config.detector
    names = list(models) or [detector.model]
    candidates = [Candidate(names[0], baseline)] + [
        Candidate(name, "native") for name in names[int(baseline == "native") :]
    ]
    candidates += [Candidate(name, "fitted") for name in names if name.endswith(".tflite")]
    picked = sample_frames(list(videos) or [config.source.uri], frames)
    if not picked:
        fail("no frame could be read from the clips")
    rows = bench_detect(candidates, picked, detector)
    click.echo(report(rows, len(picked)))


@bench.command("floor")
@camera_clips
@click.option("--frames", type=click.IntRange(2, 1000), default=24, show_default=True, help="Frames per clip.")
def bench_floor(config_files: tuple[str, ...], frames: int) -> None:
    """How tall, in model pixels, a person must be for the detector to find them (recall against height, every
    person the detector finds at twice the whole frame's scale looked for again at smaller scales), and for each
    camera the smallest person whose feet are in its rule zones and how tall the model sees them."""
    from pathlib import Path

    from edge.bench_floor import measure, report

    configs = [(Path(name).stem, load_camera_config(name)) for name in config_files]
    click.echo(report(measure(configs, frames)))


bench.add_command(bench_ingest)
bench.add_command(bench_capacity)
bench.add_command(bench_console)


@cli.group("model")
def model_group() -> None:
    """Detector weights: export to faster formats, fit an input to a camera's frames."""


@model_group.command("export")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Camera YAML naming the model.")
@click.option("--model", help="Weights to export (or an architecture such as yolov8n.yaml); overrides the config's.")
@click.option("--format", "fmt", required=True, type=click.Choice(["onnx", "openvino"]), help="Target format.")
@click.option("--imgsz", type=click.IntRange(32, 1920), help="Input size; default detector.imgsz or 640.")
@click.option("--output-dir", type=click.Path(file_okay=False), help="Move the export here.")
def model_export(
    config_file: str | None, model: str | None, fmt: str, imgsz: int | None, output_dir: str | None
) -> None:
    """Export the detector with Ultralytics and print the new file and its sha256 (put both in the config)."""
    from pathlib import Path

    from edge.export import export_model

    if not config_file and not model:
        fail("give --config CAM.yaml or --model PATH")
    config = load_camera_config(config_file) if config_file else None
    name = model or config.detector.model  # type: ignore[union-attr]
    size = imgsz or (config.detector.imgsz if config else 640)
    path, digest = export_model(name, fmt, size, Path(output_dir) if output_dir else None)
    click.echo(f"{path}\nsha256 {digest}")


def _size(text: str | None, what: str) -> tuple[int, int] | None:
    """WIDTHxHEIGHT as (width, height)."""
    if text is None:
        return None
    width, _, height = text.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0):
        fail(f"{what} must be WIDTHxHEIGHT in pixels, e.g. 640x360, not {text!r}")
    return int(width), int(height)


@model_group.command("fit")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), help="Camera YAML: its model and source.")
@click.option("--model", help="A .tflite YOLO export (square input); overrides the config's.")
@click.option("--frame", help="WIDTHxHEIGHT of the camera's frames; default read from the config's source file.")
@click.option("--input", "input_size", help="WIDTHxHEIGHT of the model input (multiples of 32); default fits --frame.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="File to write; default MODEL@WxH.tflite here.")
def model_fit(
    config_file: str | None, model: str | None, frame: str | None, input_size: str | None, output: str | None
) -> None:
    """Write the model a camera runs with `detector.fit_input`: the same weights at an input of the frames' shape.

    Prints the file and its sha256, the digest the camera's events name. The output is the same bytes on every
    run, so anyone can check a fitted model against the pinned one it came from."""
    from pathlib import Path

    from edge.detect.fitted_input import fitted_size, refit
    from edge.detector import resolve_model, sha256_of
    from edge.source import VideoSource

    if not config_file and not model:
        fail("give --config CAM.yaml or --model PATH")
    config = load_camera_config(config_file) if config_file else None
    name = model or config.detector.model  # type: ignore[union-attr]
    wanted = _size(input_size, "--input")
    frames = _size(frame, "--frame")
    path = resolve_model(name)
    if config and not model and config.detector.sha256 and sha256_of(path) != config.detector.sha256:
        fail(f"model {name} does not have the sha256 the config pins ({config.detector.sha256})")
    if wanted is None and frames is None:
        if config is None:
            fail("give --frame WxH or --input WxH (or --config with a video file as its source)")
        with VideoSource(config.source.uri, max_reconnects=0) as source:
            frames = (source.width, source.height)
        if not all(frames):
            fail(f"cannot read the frame size of {config.source.uri}; give --frame WxH")

    def size_for(side: int) -> tuple[int, int]:
        if wanted:
            return wanted[1], wanted[0]
        assert frames is not None  # without --input, --frame or the source above gave the frame size
        return fitted_size(*frames, side)

    content, (height, width) = refit(path.read_bytes(), size_for)
    target = Path(output or f"{path.stem}@{width}x{height}.tflite")
    target.write_bytes(content)
    click.echo(f"{target}\nsha256 {sha256_of(target)}")


def main() -> None:
    cli(prog_name="curbwatch")
