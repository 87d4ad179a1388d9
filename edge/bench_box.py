"""`curbwatch bench box`: several cameras at once on this machine, the way a camera box runs them.

Each camera is its own OS process (as `curbwatch edge run` starts them), all launched at the same moment,
each replaying its config's clip through the full pipeline with evidence written (JSON-lines events, redacted
keyframes and clips in a scratch folder). A camera process is `python -m edge.bench_box CONFIG ...`: it loads
the model, replays, and prints one JSON line of its figures; the parent reads the children's CPU time and
peak memory from the kernel (`os.wait4`) and how busy the whole machine was from /proc/stat.

Two ways to replay, two honest questions:

- `fast` (default): every camera replays as fast as it can. The ratio to real time is each camera's frames/s
  over the time *all* cameras were replaying (its share of the box while every other camera competes),
  divided by the clip's frame rate; a camera whose ratio is at least 1 keeps up. The whole process, start-up
  and model load included, must also end within the clip's duration (`run s` <= `clip s`).
- `realtime`: every camera is paced to its clip's frame rate, as a live camera delivers frames. It keeps up
  when no frame is finished later than `LAG_TOLERANCE_S` after it was due (`lag s`, the worst over the
  clip); the ratio is the clip's duration over the time spent on frames, waits excluded.

Per-stage figures are milliseconds per source frame (`detect/run` per frame the detector ran on); evidence
clips are encoded on a worker thread whose time shows in CPU, not in the stages. `cores at 1x` is the CPU time
a camera used from its first frame to its end over the clip's duration: the cores it needs to keep up, the
figure that best survives other people's load on a shared machine."""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from edge.detect.runtimes import BOX_CAMERAS_ENV
from models.config.camera import CameraConfig
from models.errors import UnavailableError

log = logging.getLogger(__name__)

STAGES = ("decode", "detect", "track", "rules", "redact", "encode")
"""The pipeline's stages (edge.pipeline.STAGES), repeated so the parent does not import the pipeline."""
LAG_TOLERANCE_S = 1.0
"""A paced camera keeps up while every frame is finished within this long of when it was due."""
MIN_WINDOW_S = 2.0
"""Below this much time with every camera replaying, each camera's ratio is taken over its own replay."""
PACES = ("fast", "realtime")


class BenchBoxError(UnavailableError, RuntimeError):
    """A camera could not be benchmarked; the message is one line."""


# --- the camera process ---------------------------------------------------------------------------------


def camera_main(argv: Sequence[str] | None = None) -> int:
    """One camera: load the model, replay the clip, print one JSON line of figures on stdout."""
    parser = argparse.ArgumentParser(prog="python -m edge.bench_box", description=camera_main.__doc__)
    parser.add_argument("config", help="camera YAML")
    parser.add_argument("--evidence-dir", required=True, help="where redacted evidence files go")
    parser.add_argument("--events-out", required=True, help="JSON-lines file of the infraction messages")
    parser.add_argument("--realtime", action="store_true", help="pace the replay to the clip's frame rate")
    parser.add_argument("--max-frames", type=int, help="stop after this many frames")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    print(json.dumps(replay_camera(args.config, args.evidence_dir, args.events_out, args.realtime, args.max_frames)))
    return 0


def replay_camera(config_file: str, evidence_dir: str, events_out: str, realtime: bool, max_frames: int | None) -> dict:
    from edge.detector import Detector
    from edge.pipeline import Pipeline, run
    from edge.sink import JsonlSink
    from edge.source import VideoSource
    from models.config.camera import load_camera_config

    config = load_camera_config(config_file)
    started = time.monotonic()
    detector = Detector(config.detector)
    load_s = time.monotonic() - started
    slept = [0.0]

    def sleep(seconds: float) -> None:  # pacing waits: not time spent on frames
        slept[0] += seconds
        time.sleep(seconds)

    received: list[float] = []
    cpu_at_first = [0.0]
    source_t: list[float] = []
    done: list[float] = []

    class Ticks:  # edge.pipeline.run calls update(1) after each processed frame
        def update(self, _n: int) -> None:
            done.append(time.monotonic())

    origin = datetime.now(UTC)
    with VideoSource(config.source.uri, realtime=realtime, start_wall=origin, sleep=sleep) as source:
        fitting = time.monotonic()  # the pipeline fits the model's input to the frames (detector.fit_input)
        pipeline = Pipeline(
            config,
            detector,
            origin=origin,
            sinks=[JsonlSink(Path(events_out))],
            evidence_dir=Path(evidence_dir),
            source_fps=source.fps,
            frame_size=(source.width, source.height),
        )
        load_s += time.monotonic() - fitting

        def frames() -> Iterator:
            for frame in itertools.islice(source, max_frames):
                if not received:
                    cpu_at_first[0] = _own_cpu_s()
                received.append(time.monotonic())
                source_t.append(frame.t)
                yield frame

        stats = run(pipeline, frames(), Ticks())
        fps = source.fps
    replay_cpu_s = _own_cpu_s() - cpu_at_first[0]
    stats.stage_ms["decode"] = max(0.0, stats.stage_ms["decode"] - slept[0] * 1000.0)
    return {
        "camera_id": config.camera.id,
        "clip": Path(config.source.uri).name,
        "source_fps": fps,
        "stride": detector.stride,
        "threads": config.detector.threads,
        "tracker": config.detector.tracker,
        "regions": detector.regions,
        "frames": stats.frames,
        "detected_frames": stats.detected_frames,
        "events": sum(stats.events.values()),
        "replay_s": stats.wall_seconds,
        "slept_s": slept[0],
        "load_s": load_s,
        "replay_cpu_s": replay_cpu_s,
        "stage_ms": stats.stage_ms,
        "received": [round(t, 4) for t in received],
        "source_t": [round(t, 4) for t in source_t],
        "done": [round(t, 4) for t in done],
    }


def _own_cpu_s() -> float:
    """CPU seconds of this process so far, every thread (the runtime's, the evidence worker) included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the box: plan, launch, measure -----------------------------------------------------------------------


@dataclass
class CameraPlan:
    camera_id: str
    config_file: Path
    """The copy the camera process reads (distinct id, own outbox, overrides applied)."""
    origin: Path
    """The config it was copied from."""
    workdir: Path


@dataclass
class CameraResult:
    plan: CameraPlan
    figures: dict
    launched: float
    exited: float
    cpu_s: float
    rss_mb: float
    ratio: float = 0.0
    keeps_up: bool = False

    @property
    def frames(self) -> int:
        return int(self.figures["frames"])

    @property
    def source_fps(self) -> float:
        return float(self.figures["source_fps"])

    @property
    def clip_s(self) -> float:
        """Duration of the replayed part of the clip."""
        return self.frames / self.source_fps if self.source_fps else 0.0

    @property
    def run_s(self) -> float:
        """Launch to exit: interpreter start, imports, model load, replay and the last evidence."""
        return self.exited - self.launched

    @property
    def start_s(self) -> float:
        """Launch to the first frame in hand (model loaded, video open)."""
        received = self.figures["received"]
        return received[0] - self.launched if received else self.run_s

    @property
    def detections_per_s(self) -> float:
        return self.source_fps / max(int(self.figures["stride"]), 1)

    @property
    def lag_s(self) -> float:
        """Worst delay of a finished frame after the time it was due on a live camera started at the first frame."""
        received, source_t, done = self.figures["received"], self.figures["source_t"], self.figures["done"]
        if not received:
            return 0.0
        start = received[0] - source_t[0]
        return max([0.0, *(d - (start + t) for d, t in zip(done, source_t, strict=False))])

    @property
    def busy_s(self) -> float:
        return max(float(self.figures["replay_s"]) - float(self.figures["slept_s"]), 1e-9)

    def stage_per_frame(self, stage: str) -> float:
        return float(self.figures["stage_ms"][stage]) / max(self.frames, 1)

    @property
    def detect_per_run(self) -> float:
        return float(self.figures["stage_ms"]["detect"]) / max(int(self.figures["detected_frames"]), 1)

    @property
    def cores_at_1x(self) -> float:
        """Cores this camera keeps busy at its clip's real time: CPU time from the first frame to the end over the
        clip's duration (start-up excluded). Contention inflates it a little (cache, spinning thread pools)."""
        return float(self.figures["replay_cpu_s"]) / self.clip_s if self.clip_s else 0.0

    @property
    def cpu_percent(self) -> float:
        """Of one core, over the process's life."""
        return 100.0 * self.cpu_s / self.run_s if self.run_s > 0 else 0.0


@dataclass
class BoxRun:
    pace: str
    cameras: list[CameraResult]
    wall_s: float
    cores: int
    cpu_s: float
    machine_busy: float | None
    """Share of all of the machine's cores that were busy (anyone's processes), None when unknown."""
    window_s: float
    """Time every camera was replaying (fast pace); the ratios are taken over it unless it is under MIN_WINDOW_S."""
    load_before: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def cpu_percent(self) -> float:
        """The cameras' CPU time over the run, as a share of all the box's cores."""
        return 100.0 * self.cpu_s / (self.wall_s * self.cores) if self.wall_s > 0 else 0.0

    @property
    def all_keep_up(self) -> bool:
        return all(c.keeps_up for c in self.cameras)

    @property
    def min_ratio(self) -> float:
        return min(c.ratio for c in self.cameras)

    @property
    def mean_ratio(self) -> float:
        return sum(c.ratio for c in self.cameras) / len(self.cameras)

    @property
    def rss_mb(self) -> float:
        return sum(c.rss_mb for c in self.cameras) / len(self.cameras)


def box_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return total - idle, total


SPEED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp")
"""CPU features the model runtimes' 8-bit kernels can use (dot products: VNNI, AMX, Arm's dot product): the
same model measured 4-5 times slower per core on an AVX2-only machine than on an earlier one, so figures are
only compared between machines that share them."""


def cpu_description() -> str:
    """The CPU's model name and which of SPEED_FLAGS it has, from /proc/cpuinfo (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as info:
            lines = info.read().splitlines()
    except OSError:
        return ""
    fields: dict[str, str] = {}
    for line in lines:
        key, _, value = line.partition(":")
        fields.setdefault(key.strip().lower(), value.strip())
    flags = set((fields.get("flags") or fields.get("features") or "").split())
    name = fields.get("model name") or fields.get("cpu part") or "unknown CPU"
    return f"{name} ({', '.join(f for f in SPEED_FLAGS if f in flags) or 'none of ' + ', '.join(SPEED_FLAGS)})"


def plan_cameras(
    configs: Sequence[tuple[Path, CameraConfig]],
    count: int,
    workdir: Path,
    threads: int | None = None,
    fps: float | None = None,
    fit_input: bool | None = None,
    tracker: str | None = None,
    baseline: bool = False,
) -> list[CameraPlan]:
    """`count` cameras from `configs`, repeated in turn; a repeated camera gets `-2`, `-3` ... on its id. Each
    copy is written to `workdir` with its own outbox file, the overrides applied and file paths made absolute
    (paths in a config are relative to the working directory). `baseline` runs each as the defaults before
    detection regions had it: the whole frame on every detection, at BASELINE_FPS unless the config or `fps`
    says otherwise."""
    plans: list[CameraPlan] = []
    seen: dict[str, int] = {}
    for origin, config in itertools.islice(itertools.cycle(configs), count):
        data = config.model_dump(mode="json")
        base = config.camera.id
        seen[base] = seen.get(base, 0) + 1
        camera_id = base if seen[base] == 1 else f"{base}-{seen[base]}"
        folder = workdir / camera_id
        folder.mkdir(parents=True)
        data["camera"]["id"] = camera_id
        data["outbox"]["path"] = str(folder / "outbox.db")
        for section, key in (("source", "uri"), ("detector", "model")):
            if Path(data[section][key]).exists():
                data[section][key] = str(Path(data[section][key]).resolve())
        if threads is not None:
            data["detector"]["threads"] = threads
        if fps is not None:
            data["detector"]["fps"] = fps
            data["detector"]["stride"] = None
        if fit_input is not None:
            data["detector"]["fit_input"] = fit_input
        if tracker is not None:
            data["detector"]["tracker"] = tracker
        if baseline:
            data["detector"]["regions"] = False
            if fps is None and "fps" not in config.detector.model_fields_set:
                data["detector"]["fps"] = BASELINE_FPS
        path = workdir / f"{camera_id}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        plans.append(CameraPlan(camera_id, path, origin, folder))
    return plans


def _camera_command(plan: CameraPlan, pace: str, max_frames: int | None) -> list[str]:
    command = [sys.executable, "-m", "edge.bench_box", str(plan.config_file)]
    command += ["--evidence-dir", str(plan.workdir / "evidence"), "--events-out", str(plan.workdir / "events.jsonl")]
    if pace == "realtime":
        command.append("--realtime")
    if max_frames is not None:
        command += ["--max-frames", str(max_frames)]
    return command


def _child_env(cameras: int) -> dict[str, str]:
    """The camera processes import this checkout whatever the working directory, and share the cores out as
    `edge run` shares them among its cameras."""
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ)
    env[BOX_CAMERAS_ENV] = str(cameras)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    env.setdefault("YOLO_OFFLINE", "1")
    return env


def run_box(plans: Sequence[CameraPlan], pace: str, max_frames: int | None = None) -> BoxRun:
    """Launch every camera at once, wait for all, and put the figures together."""
    if pace not in PACES:
        raise ValueError(f"pace must be one of {PACES}")
    env = _child_env(len(plans))
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    outcome: dict[str, tuple[bytes, int, float, float, float]] = {}
    launched: dict[str, float] = {}
    processes: list[tuple[CameraPlan, subprocess.Popen]] = []

    def watch(plan: CameraPlan, process: subprocess.Popen) -> None:
        stdout = process.stdout.read() if process.stdout is not None else b""
        _pid, status, usage = os.wait4(process.pid, 0)
        exited = time.monotonic()
        process.returncode = os.waitstatus_to_exitcode(status)
        outcome[plan.camera_id] = (
            stdout,
            process.returncode,
            exited,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024.0,  # KiB on Linux
        )

    ticks_before = _cpu_ticks()
    started = time.monotonic()
    watchers = []
    try:
        for plan in plans:
            log_file = (plan.workdir / "camera.log").open("wb")
            launched[plan.camera_id] = time.monotonic()
            process = subprocess.Popen(
                _camera_command(plan, pace, max_frames), stdout=subprocess.PIPE, stderr=log_file, env=env
            )
            log_file.close()
            processes.append((plan, process))
            watcher = threading.Thread(target=watch, args=(plan, process), daemon=True)
            watcher.start()
            watchers.append(watcher)
        log.info("%d camera processes started (%s pace)", len(plans), pace)
        for watcher in watchers:
            watcher.join()
    finally:
        for _plan, process in processes:
            if process.returncode is None:
                process.kill()
    ended = time.monotonic()
    ticks_after = _cpu_ticks()
    machine_busy = None
    if ticks_before and ticks_after and ticks_after[1] > ticks_before[1]:
        machine_busy = (ticks_after[0] - ticks_before[0]) / (ticks_after[1] - ticks_before[1])

    cameras = []
    for plan in plans:
        stdout, code, exited, cpu_s, rss_mb = outcome[plan.camera_id]
        if code != 0:
            tail = (plan.workdir / "camera.log").read_text(errors="replace").strip().splitlines()[-5:]
            for line in tail:
                log.error("camera %s: %s", plan.camera_id, line)
            raise BenchBoxError(f"camera {plan.camera_id} ({plan.origin}) exited with code {code}")
        lines = stdout.decode().strip().splitlines()
        figures = json.loads(lines[-1])
        cameras.append(CameraResult(plan, figures, launched[plan.camera_id], exited, cpu_s, rss_mb))

    run = BoxRun(
        pace,
        cameras,
        ended - started,
        box_cores(),
        sum(c.cpu_s for c in cameras),
        machine_busy,
        0.0,
        load_before,
    )
    _judge(run)
    return run


def _judge(run: BoxRun) -> None:
    """Ratios to real time and whether each camera keeps up."""
    if run.pace == "realtime":
        for camera in run.cameras:
            camera.ratio = camera.clip_s / camera.busy_s
            camera.keeps_up = camera.lag_s <= LAG_TOLERANCE_S
        return
    done = [c.figures["done"] for c in run.cameras]
    start = max((d[0] for d in done if d), default=0.0)
    end = min((d[-1] for d in done if d), default=0.0)
    run.window_s = max(0.0, end - start)
    if run.window_s < MIN_WINDOW_S:
        run.notes.append(
            f"the cameras replayed together for only {run.window_s:.1f} s: each ratio is over its own replay"
        )
    for camera in run.cameras:
        figures = camera.figures
        if run.window_s >= MIN_WINDOW_S:
            frames = sum(1 for t in figures["done"] if start < t <= end)
            rate = frames / run.window_s
        else:
            rate = camera.frames / float(figures["replay_s"]) if figures["replay_s"] else 0.0
        camera.ratio = rate / camera.source_fps if camera.source_fps else 0.0
        camera.keeps_up = camera.ratio >= 1.0 and camera.run_s <= camera.clip_s


# --- tables ---------------------------------------------------------------------------------------------


CAMERA_COLUMNS = (
    "camera",
    "clip",
    "fps",
    "det/s",
    "frames",
    "ratio",
    "start s",
    "load s",
    "run s",
    "clip s",
    "lag s",
    "keeps up",
    *(f"{s} ms" for s in STAGES),
    "detect/run ms",
    "cores at 1x",
    "CPU %",
    "RSS MB",
)
BASELINE_FPS = 6.0
"""`detector.fps` before detection regions (issue 22), when the tracker's flow let 4 a second find as many."""
SUMMARY_COLUMNS = (
    "cameras",
    "tracker",
    "regions",
    "pace",
    "threads",
    "min ratio",
    "mean ratio",
    "cores needed at 1x",
    "cameras' CPU % of box",
    "machine busy %",
    "RSS MB/camera",
    "slowest run s / clip s",
    "all keep up",
)


def _row(cells: Sequence[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    return "\n".join([_row(columns), _row(["---"] * len(columns)), *(_row(r) for r in rows)])


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def camera_table(run: BoxRun) -> str:
    rows = []
    for c in run.cameras:
        rows.append(
            [
                c.plan.camera_id,
                c.figures["clip"],
                f"{c.source_fps:.2f}",
                f"{c.detections_per_s:.1f}",
                c.frames,
                f"{c.ratio:.2f}",
                f"{c.start_s:.1f}",
                f"{float(c.figures['load_s']):.2f}",
                f"{c.run_s:.1f}",
                f"{c.clip_s:.1f}",
                f"{c.lag_s:.2f}" if run.pace == "realtime" else "-",
                _yes(c.keeps_up),
                *(f"{c.stage_per_frame(s):.1f}" for s in STAGES),
                f"{c.detect_per_run:.1f}",
                f"{c.cores_at_1x:.2f}",
                f"{c.cpu_percent:.0f}",
                f"{c.rss_mb:.0f}",
            ]
        )
    return _table(CAMERA_COLUMNS, rows)


def summary_row(run: BoxRun) -> list[object]:
    threads = sorted({str(c.figures["threads"] or "default") for c in run.cameras})
    slowest = max(run.cameras, key=lambda c: c.run_s / c.clip_s if c.clip_s else 0.0)
    trackers = sorted({str(c.figures["tracker"]) for c in run.cameras})
    regions = sorted({"on" if c.figures.get("regions") else "off" for c in run.cameras})
    return [
        len(run.cameras),
        ",".join(trackers),
        ",".join(regions),
        run.pace,
        ",".join(threads),
        f"{run.min_ratio:.2f}",
        f"{run.mean_ratio:.2f}",
        f"{sum(c.cores_at_1x for c in run.cameras):.2f} of {run.cores}",
        f"{run.cpu_percent:.0f}",
        "n/a" if run.machine_busy is None else f"{100.0 * run.machine_busy:.0f}",
        f"{run.rss_mb:.0f}",
        f"{slowest.run_s:.1f} / {slowest.clip_s:.1f}",
        _yes(run.all_keep_up),
    ]


def summary_table(runs: Sequence[BoxRun]) -> str:
    return _table(SUMMARY_COLUMNS, [summary_row(r) for r in runs])


def baseline_table(pairs: Sequence[tuple[BoxRun, BoxRun]]) -> str:
    """Cores per camera at 1x, the baseline's over the new defaults', per camera and for the box, for each pair
    of runs measured one after the other on the same cameras (`bench box --baseline`)."""
    rows: list[list[object]] = []
    for number, (before, after) in enumerate(pairs, 1):
        for old, new in zip(before.cameras, after.cameras, strict=True):
            rows.append([number, old.plan.camera_id, *_compared(old.cores_at_1x, new.cores_at_1x)])
        old_total = sum(c.cores_at_1x for c in before.cameras)
        new_total = sum(c.cores_at_1x for c in after.cameras)
        rows.append([number, f"box ({len(before.cameras)} cameras)", *_compared(old_total, new_total)])
    return _table(("pair", "camera", "baseline cores at 1x", "new cores at 1x", "baseline / new"), rows)


def _compared(old: float, new: float) -> list[str]:
    return [f"{old:.3f}", f"{new:.3f}", f"{old / new:.2f}x" if new > 0 else "-"]


def describe(run: BoxRun) -> str:
    """The per-camera table, the box's summary row and how it was measured."""
    how = (
        f"ratio over the {run.window_s:.1f} s every camera was replaying"
        if run.pace == "fast" and run.window_s >= MIN_WINDOW_S
        else "ratio = clip duration / time spent on frames"
        if run.pace == "realtime"
        else "ratio over each camera's own replay"
    )
    keep = (
        f"keeps up: no frame finished more than {LAG_TOLERANCE_S:.0f} s after it was due"
        if run.pace == "realtime"
        else "keeps up: ratio >= 1 and the process (start-up and model load included) ended within the clip"
    )
    load = f", load average {run.load_before:.1f} before" if run.load_before is not None else ""
    lines = [
        f"{len(run.cameras)} camera(s), {run.pace} pace, {run.cores} cores of {cpu_description()}, {run.wall_s:.1f} s"
        f"{load}; {how}; {keep}",
        camera_table(run),
        "",
        summary_table([run]),
        *run.notes,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(camera_main())
