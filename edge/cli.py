"""`curbwatch edge ...`: replay recorded video, or run a camera unattended."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from common.cli_errors import fail
from models.config.camera import CameraConfig, load_camera_config

if TYPE_CHECKING:  # both load OpenCV and the model runtime, which `--help` and a bad config never need
    from edge.detector import Detector
    from edge.sink import EventSink

log = logging.getLogger(__name__)


@click.group("edge")
def edge() -> None:
    """The edge process that runs beside a camera."""


def open_detector(config: CameraConfig, model: str | None) -> Detector:
    """The configured detector; ModelError (exit 5) for weights that cannot be used."""
    from edge.detector import Detector

    return Detector(config.detector, model)


def open_sinks(config: CameraConfig, events_out: str | None, publish: bool, broker: str | None) -> list[EventSink]:
    """The JSON-lines file and, when publishing, the signed outbox that a publisher thread drains to the broker."""
    from pydantic import ValidationError

    from edge.outbox_sink import OutboxSink
    from edge.sink import JsonlSink
    from models.errors import format_validation_error

    sinks: list[EventSink] = [JsonlSink(Path(events_out))] if events_out else []
    if publish:
        if broker:
            try:
                config.mqtt.url = broker
            except ValidationError as exc:
                fail("--broker " + "; ".join(format_validation_error(exc)).removeprefix("url: "))
        sinks.append(OutboxSink(config))
    return sinks


@edge.command("replay")
@click.argument("video", type=click.Path(dir_okay=False))
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False), help="Camera YAML.")
@click.option("--model", type=click.Path(), help="Detector weights; overrides detector.model.")
@click.option("--events-out", type=click.Path(dir_okay=False), help="Write each infraction message as a JSON line.")
@click.option("--evidence-dir", type=click.Path(file_okay=False), help="Where redacted evidence files go.")
@click.option("--annotate", type=click.Path(dir_okay=False), help="Write an annotated video here (.mp4, .avi, .webm).")
@click.option("--publish/--no-publish", default=False, show_default=True, help="Publish events over MQTT.")
@click.option("--broker", help="Broker URL; overrides mqtt.url.")
@click.option("--realtime", is_flag=True, help="Pace the replay to the video's frame rate.")
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames.")
@click.option(
    "--report",
    type=click.Path(),
    help="Write a self-contained HTML report here: zones, heat map, events, timeline, per-stage timing.",
)
def replay(
    video: str,
    config_file: str,
    model: str | None,
    events_out: str | None,
    evidence_dir: str | None,
    annotate: str | None,
    publish: bool,
    broker: str | None,
    realtime: bool,
    max_frames: int | None,
    report: str | None,
) -> None:
    """Replay VIDEO through the pipeline as fast as possible and report its infractions."""
    import tempfile
    from contextlib import ExitStack

    from edge.lifecycle import Lifecycle
    from edge.outbox_sink import OutboxSink
    from edge.replay import replay_file
    from edge.source import VideoSource

    # Ctrl-C (or SIGTERM) stops reading frames; the events in progress, the evidence and the outbox are finished as
    # `edge run` finishes them, instead of click's "Aborted!" in the middle of the pipeline.
    lifecycle = Lifecycle()
    lifecycle.install()
    config = load_camera_config(config_file)
    report_path = None
    if report:
        from edge.report import ReplayReport, check_report_path

        report_path = check_report_path(report)  # before the replay, not after minutes of it
    if broker and not publish:
        log.warning("--broker is ignored without --publish")
    VideoSource(video).close()  # a bad video fails now (SourceError, exit 4), not after the model has loaded
    if publish and not evidence_dir:
        evidence_dir = str(Path("data") / f"evidence-{config.camera.id}")  # published events carry their evidence
    sinks = open_sinks(config, events_out, publish, broker)
    detector = open_detector(config, model)
    with ExitStack() as cleanup:
        collect = ReplayReport(Path(video), Path(config_file), config) if report_path else None
        if collect is not None:
            sinks.append(collect.sink)
            if not evidence_dir:  # the report embeds keyframes; they need somewhere to land meanwhile
                evidence_dir = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="curbwatch-report-"))
        stats = replay_file(
            video,
            config,
            detector,
            sinks=sinks,
            evidence_dir=Path(evidence_dir) if evidence_dir else None,
            annotate=Path(annotate) if annotate else None,
            realtime=realtime,
            max_frames=max_frames,
            observers=[collect.collector] if collect else (),
            on_start=collect.attach if collect else None,
            lifecycle=lifecycle,
        )
        if collect is not None and report_path is not None:
            collect.write(report_path, stats)
    click.echo(stats.summary())
    if report_path is not None:
        click.echo(f"report: {report_path}")
    for sink in sinks:
        # The outbox keeps what the broker did not take, but a replay ends here: say so, or the events seem sent.
        problem = sink.undelivered() if isinstance(sink, OutboxSink) else None
        if problem is not None:
            raise problem


@edge.command("run")
@click.option(
    "--config",
    "config_paths",
    required=True,
    multiple=True,
    type=click.Path(),
    help="Camera YAML, or a folder of them (*.yaml); repeat for several cameras, each in its own process.",
)
@click.option("--model", type=click.Path(), help="Detector weights; overrides detector.model.")
@click.option(
    "--events-out",
    type=click.Path(dir_okay=False),
    help="Append each infraction message as a JSON line here; default events.jsonl in the evidence folder.",
)
@click.option(
    "--evidence-dir",
    type=click.Path(file_okay=False),
    help="Where redacted evidence files go; default data/evidence-CAMERA_ID (several cameras: DIR/CAMERA_ID).",
)
@click.option(
    "--publish/--no-publish",
    default=True,
    show_default=True,
    help="Publish events over MQTT (signed, through the outbox; needs signing.key).",
)
@click.option("--max-frames", type=click.IntRange(min=1), help="Stop after this many frames.")
def run(
    config_paths: tuple[str, ...],
    model: str | None,
    events_out: str | None,
    evidence_dir: str | None,
    publish: bool,
    max_frames: int | None,
) -> None:
    """Watch the configured sources until stopped, reconnecting when a stream drops.

    SIGTERM or Ctrl-C stops cleanly: the events in progress are finished and the outbox is committed.
    SIGHUP re-reads the config and applies zones, rules, signal, calibration and redaction without dropping
    the stream. With several cameras, each runs in a child process that is restarted if it crashes."""
    from edge.supervisor import camera_files

    files = camera_files(config_paths)
    if len(files) == 1:
        run_camera(files[0], model, events_out, evidence_dir, publish, max_frames)
        return
    if events_out:
        fail("--events-out names one file: with several cameras each writes events.jsonl in its evidence folder")
    options = [*(["--model", model] if model else []), "--publish" if publish else "--no-publish"]
    options += ["--max-frames", str(max_frames)] if max_frames else []
    raise SystemExit(supervise_cameras(files, options, evidence_dir))


def run_camera(
    config_file: Path,
    model: str | None,
    events_out: str | None,
    evidence_dir: str | None,
    publish: bool,
    max_frames: int | None,
) -> None:
    """One camera in this process, until its source ends or a stop signal arrives."""
    import itertools

    from edge.evidence import remove_partial
    from edge.lifecycle import Lifecycle
    from edge.pipeline import Pipeline
    from edge.pipeline import run as run_pipeline
    from edge.reload import reload_pipeline
    from edge.source import VideoSource, source_kind

    lifecycle = Lifecycle()
    lifecycle.install()  # from here on a stop while the model loads is as clean as one later
    config = load_camera_config(config_file)
    evidence = Path(evidence_dir or Path("data") / f"evidence-{config.camera.id}")
    evidence.mkdir(parents=True, exist_ok=True)
    remove_partial(evidence)
    sinks = open_sinks(config, events_out or str(evidence / "events.jsonl"), publish, None)
    origin = datetime.now(UTC)

    def open_source() -> VideoSource:
        return VideoSource(
            config.source.uri,
            realtime=config.source.realtime,
            reconnect_initial_s=config.source.reconnect_initial_s,
            reconnect_max_s=config.source.reconnect_max_s,
            open_timeout_s=config.source.open_timeout_s,
            read_timeout_s=config.source.read_timeout_s,
            rtsp_transport=config.source.rtsp_transport,
            ffmpeg_options=config.source.ffmpeg_options,
            start_wall=origin,
            sleep=lifecycle.sleep,
        )

    # A file opens before the model loads, so a wrong path fails in a moment (SourceError, exit 4). A live camera
    # connects after: the stream would otherwise pile up seconds of frames while the model loads, which arrive in a
    # burst at the first read and are dropped as stale once the pipeline is behind them.
    live = source_kind(config.source.uri) != "file"
    file_source = None if live else open_source()
    detector = open_detector(config, model)
    source = file_source or open_source()
    pipeline = Pipeline(
        config,
        detector,
        origin=origin,
        sinks=sinks,
        evidence_dir=evidence,
        source_fps=source.fps,
        live=live,
        frame_size=(source.width, source.height),
        clip=None if live else config.source.uri,
    )
    for sink in sinks:
        # The heartbeat says when the camera is reconnecting, besides the pipeline's figures.
        sink.attach_health(lambda: {**pipeline.health(), **source.health()})
    frames = itertools.islice(source, max_frames) if max_frames else source
    watched = lifecycle.frames(
        frames,
        reload=lambda: reload_pipeline(config_file, pipeline),
        status=lambda: f"{pipeline.stats.frames} frames, {pipeline.stats.recent_fps(time.monotonic()):.1f} fps",
    )
    try:
        stats = run_pipeline(pipeline, watched)
    finally:
        source.close()
        lifecycle.notifier.close()
    click.echo(stats.summary())


def supervise_cameras(files: list[Path], options: list[str], evidence_dir: str | None) -> int:
    """One child process per camera config; returns the exit code once every child has ended."""
    import sys

    from edge.lifecycle import Lifecycle
    from edge.supervisor import Supervisor, check_camera_set

    configs = {path: load_camera_config(path) for path in files}
    check_camera_set(configs)
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    children = {}
    for path, config in configs.items():
        camera = config.camera.id
        command = [sys.executable, "-m", "curbwatch", "--log-level", level, "edge", "run", "--config", str(path)]
        command += ["--evidence-dir", str(Path(evidence_dir) / camera)] if evidence_dir else []
        children[camera] = command + options
    lifecycle = Lifecycle()
    lifecycle.install()
    return Supervisor(children, lifecycle).run()
