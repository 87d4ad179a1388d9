"""The edge pipeline: source -> detect/track -> static regions -> rules -> redact -> evidence -> sinks.

Raw frames never leave `Pipeline.process`: the redactor runs before anything is kept, and evidence and
the annotated video are cut from redacted frames only."""

from __future__ import annotations

import logging
import math
import time
from collections import Counter, deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import cv2

from edge.annotate import Annotator
from edge.boxes import Box
from edge.detector import Detector
from edge.evidence import EvidenceWriter
from edge.frame_ring import FrameRing
from edge.item_follow import ItemFollower, ItemObservation
from edge.messages import build_item_status, build_message
from edge.motion import MotionDetector
from edge.privacy_mask import PrivacyMask
from edge.redact import Redactor, grow
from edge.regions import window_of
from edge.required_fps import required_fps
from edge.rules import LitteringRule, Rule, RuleHit, build_rules
from edge.samples import FrameSample, StaticItem
from edge.signal import build_signal
from edge.sink import EventSink
from edge.source import SourceFrame
from edge.static_regions import StaticRegionDetector
from edge.zone_warnings import zone_warnings
from models.config.camera import CameraConfig
from models.config.zones import Zone
from models.infraction import EvidenceRef, InfractionMessage

log = logging.getLogger(__name__)


class FrameObserver(Protocol):
    """Sees every processed frame's sample and the messages sent while processing it, never pixels: the
    replay report and the zone editor's test replay draw tracks from these. Messages flushed at the end
    of the stream reach only the sinks, so a complete list of events comes from a sink."""

    def observe(self, sample: FrameSample, messages: list[InfractionMessage]) -> None: ...


STAGES = ("decode", "motion", "detect", "track", "rules", "redact", "encode")
OCCLUDER_CLASSES = frozenset({"person", "bicycle", "motorcycle", "car", "bus", "truck"})
CONTINUATION_S = 2.0
"""After a reload, a new crossing by a track whose crossing was just flushed, starting this soon, is that one."""
RECENT_S = 10.0
"""The heartbeat's fps is measured over this many seconds."""
KEPT_FPS = 10.0
"""Frames a second that are redacted and kept for evidence (clips are thinned to 6 a second, keyframes take the
nearest kept frame). The others are never redacted, kept or looked at for motion: on a 30 fps camera that was
most of the per-frame cost."""
STATIC_FPS = 6.0
"""Most updates a second of the littering rule's background models (they blend by time constants, but at 3 a
second a walker at the frame's edge left an item on ABODA video4 that no one dropped)."""
PERSON_MARGIN = 0.15
"""How much of a person's box width and height is added on each side before it hides the ground from the
littering rule's background models."""


def ring_seconds(config: CameraConfig) -> float:
    """How much redacted video to remember: enough to cut a littering clip from before its grace time."""
    littering = config.rules.littering
    return max(15.0, littering.grace_s + littering.min_static_s + littering.owner_window_s + 5.0)


@dataclass
class PipelineStats:
    frames: int = 0
    detected_frames: int = 0
    source_seconds: float = 0.0
    wall_seconds: float = 0.0
    events: Counter = field(default_factory=Counter)
    stage_ms: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    ticks: deque[float] = field(default_factory=deque, repr=False)
    """Monotonic times of the frames of the last RECENT_S seconds."""
    detection_ticks: deque[float] = field(default_factory=deque, repr=False)
    """Monotonic times of the detector runs of the last RECENT_S seconds."""

    @property
    def fps(self) -> float:
        return self.frames / self.wall_seconds if self.wall_seconds > 0 else 0.0

    @property
    def detections_per_s(self) -> float:
        """Detector runs per second of video: the rate the rules and the tracker worked with."""
        return self.detected_frames / self.source_seconds if self.source_seconds > 0 else 0.0

    def tick(self, now: float, detected: bool) -> None:
        for ticks, counts in ((self.ticks, True), (self.detection_ticks, detected)):
            if counts:
                ticks.append(now)
            while ticks and now - ticks[0] > RECENT_S:
                ticks.popleft()

    def recent_fps(self, now: float) -> float:
        """Frames per second over the last RECENT_S seconds up to `now`: falls to 0 when the stream stalls,
        where the whole-run average would hide it for hours."""
        return _recent_rate(self.ticks, now, self.fps)

    def recent_detections_per_s(self, now: float) -> float:
        """Detector runs per second over the last RECENT_S seconds: what the tracker and rules actually get."""
        whole_run = self.detected_frames / self.wall_seconds if self.wall_seconds > 0 else 0.0
        return _recent_rate(self.detection_ticks, now, whole_run)

    def health(self) -> dict:
        """The heartbeat's share of these figures."""
        return {
            "fps": round(self.recent_fps(time.monotonic()), 2),
            "detect_fps": round(self.recent_detections_per_s(time.monotonic()), 2),
            "frames": self.frames,
            "events": sum(self.events.values()),
        }

    def summary(self) -> str:
        events = ", ".join(f"{kind} {n}" for kind, n in sorted(self.events.items())) or "none"
        return (
            f"{self.frames} frames, {self.source_seconds:.1f} s of video in {self.wall_seconds:.1f} s "
            f"({self.fps:.1f} frames/s); events: {events}"
        )


def _recent_rate(ticks: deque[float], now: float, whole_run: float) -> float:
    """Ticks per second over the last RECENT_S seconds up to `now`, or `whole_run` in the first second."""
    seen = tuple(ticks)  # the heartbeat thread reads while the frame loop appends
    first = seen[0] if seen else now
    span = min(RECENT_S, now - first)
    if span < 1.0:
        return whole_run
    return sum(1 for t in seen if now - t <= RECENT_S) / span


class Pipeline:
    def __init__(
        self,
        config: CameraConfig,
        detector: Detector,
        *,
        origin: datetime,
        sinks: Iterable[EventSink] = (),
        evidence_dir: Path | None = None,
        annotate: Annotator | None = None,
        observers: Iterable[FrameObserver] = (),
        source_fps: float = 0.0,
        live: bool = False,
        frame_size: tuple[int, int] | None = None,
        clip: str | None = None,
    ) -> None:
        """`source_fps` (0 when unknown) and `live` set the detector's schedule, `frame_size` (width, height, when
        known) its input: one pipeline is one stream. `clip` is the recorded file's name when the stream is one
        (events then say where in it they happened), None for a live camera."""
        self.detector = detector
        detector.start(source_fps, live, frame_size)
        self.origin = origin
        self.sinks = list(sinks)
        self.ring = FrameRing(ring_seconds(config))
        self.evidence = EvidenceWriter(evidence_dir) if evidence_dir is not None else None
        # Evidence (VP8 above all) is slow; one worker thread builds it while the detector runs on.
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="evidence") if self.evidence is not None else None
        self._pending: deque[tuple[RuleHit, Zone | None, Future | None, ItemFollower]] = deque()
        """Hits waiting for their evidence, with the item follower of their time (a reload may replace it)."""
        self.clip = clip
        self.annotate = annotate
        self.observers = list(observers)
        self.static: StaticRegionDetector | None = None
        self._static_items: tuple[StaticItem, ...] = ()
        self.motion: MotionDetector | None = None
        self._moved = True
        self._blobs: list[Box] = []
        """What moved since the last detector run: where its regions look besides the people it follows."""
        self._kept_t = -math.inf
        self._static_t = -math.inf
        self._static_rebuilds = 0
        self.items = ItemFollower.from_config(config.rules.littering)
        self._half_frame = 0.5 / source_fps if source_fps > 0 else 0.0
        self.stats = PipelineStats()
        self._flushed: set[tuple[str, int]] = set()
        self._flushed_until = 0.0
        self._configure(config, None)
        for sink in self.sinks:
            sink.attach_health(self.health)  # the outbox's heartbeat reports these live figures

    def health(self) -> dict:
        """The heartbeat's figures: throughput, counts, model, and the frame rate the rules need."""
        return {
            **self.stats.health(),
            "model": self.detector.model_ref.name,
            "required_fps": required_fps(self.config.rules, self.detector.stride),
        }

    def _configure(self, config: CameraConfig, previous: CameraConfig | None, keep: Iterable[Rule] = ()) -> None:
        """Build what follows from zones, rules, signal, calibration and redaction. Rules in `keep` stay as they
        are; the redactor's memory of people and the learnt background stay when their settings did not change."""
        self.config = config
        if previous is None or previous.signal != config.signal:
            self.signal = build_signal(config)
        kept = {rule.name: rule for rule in keep}
        # Built without the signal: each sample carries its phase, read with the frame (a lamp needs the image),
        # and a rule holding the signal would ask it again whenever that phase is unknown.
        self.rules = [kept.get(rule.name, rule) for rule in build_rules(config)]
        # What the detector never looks at cannot be redacted by it: it is pixelated whole, like a privacy zone.
        window = self.detector.look_within(window_of(config.zones))
        outside = window if config.redaction.mode != "off" else None
        self.privacy = PrivacyMask(config.zones, config.redaction.block_px, outside=outside)
        if previous is None or previous.redaction != config.redaction:
            self.redactor = Redactor(config.redaction)
            if not self.redactor.enabled:
                log.warning(
                    "redaction is OFF (redaction.mode: off): evidence shows people unredacted; "
                    "events say redacted: false"
                )
        # The background models and the followed items are built from the littering rule's settings.
        if previous is not None and LitteringRule.inputs(previous) != LitteringRule.inputs(config):
            self._send_items(self.items.reset(self.stats.source_seconds))  # its items are no longer watched
            self.items = ItemFollower.from_config(config.rules.littering)
            self._static_rebuilds = 0
            self.static = None  # learnt again inside the new litter_watch zones
            self.motion = None  # its ignore zones may have changed too
            self._static_items = ()
            self._static_t = -math.inf
        self.ring.seconds = ring_seconds(config)
        for warning in zone_warnings(config):
            log.warning("%s: %s", config.camera.id, warning)

    def reconfigure(self, config: CameraConfig) -> list[InfractionMessage]:
        """Switch to new zones, rules, signal, calibration or redaction between two frames, keeping the source,
        detector and sinks. A rule whose settings changed is flushed first (what already qualifies is reported,
        its evidence cut with the zones it was judged by) and starts afresh; the others carry on untouched."""
        previous = self.config
        replaced = [rule for rule in self.rules if rule.inputs(previous) != rule.inputs(config)]
        hits = [hit for rule in replaced for hit in rule.finish()]
        messages = self._emit(hits)
        self._flushed = {(hit.type, hit.track_id) for hit in hits}
        self._flushed_until = self.stats.source_seconds + CONTINUATION_S
        self._configure(config, previous, keep=[rule for rule in self.rules if rule not in replaced])
        return messages

    def _reported_at_reload(self, hit: RuleHit) -> bool:
        """A crossing the new rules start right after a reload, by a track the flush just reported, is that same
        crossing going on: reporting it again would make two events of one."""
        if (hit.type, hit.track_id) in self._flushed and hit.t_start <= self._flushed_until:
            log.info("%s: track %d continues the event reported at the reload", hit.type, hit.track_id)
            return True
        return False

    def process(self, frame: SourceFrame, decode_ms: float = 0.0) -> list[InfractionMessage]:
        stage = self.stats.stage_ms
        stage["decode"] += decode_ms
        height, width = frame.image.shape[:2]
        started = time.perf_counter()
        keep = self._keeps(frame.t)
        motion = None
        if keep:
            if self.motion is None:
                self.motion = MotionDetector(self.config.zones, (width, height))
            motion = self.motion.update(frame.image, frame.t)
            self._moved |= motion.moving
            self._blobs += motion.blobs
        stage["motion"] += (time.perf_counter() - started) * 1000.0
        detections, detected = self.detector.process(frame.image, frame.t, self._moved, self._blobs)
        if detected:
            self._moved = False
            self._blobs = []
        stage["detect"] += self.detector.times.detect
        stage["track"] += self.detector.times.track

        started = time.perf_counter()
        if self.static is None and self.config.rules.littering.enabled:
            self.static = StaticRegionDetector(self.config.zones, self.config.rules.littering, (width, height))
        # Every person the model sees, low scores included (one half hidden behind a sign post scores low), grown
        # a little: feet and shadows beside a person standing still are theirs, not items.
        occluders: list[Box] = [d.box for d in detections if d.cls in OCCLUDER_CLASSES and d.cls != "person"]
        occluders += [grow(box, PERSON_MARGIN) for box in self.detector.raw_people]
        if self.static is not None and detected and frame.t - self._static_t >= 1.0 / STATIC_FPS - self._half_frame:
            # The backgrounds blend by time constants, so they keep up at a few updates a second; on detection
            # frames the people and vehicles that must not become items are fresh.
            self.static.pinned = self.items.item_ids
            self._static_items = self.static.update(frame.image, frame.t, occluders)
            self._static_t = frame.t
            self._follow_items(self.static, frame.t)
        static_items = self._static_items
        phase = self.signal.phase(frame.t, frame.wall, frame.image) if self.signal is not None else None
        sample = FrameSample(
            index=frame.index,
            t=frame.t,
            wall=frame.wall,
            width=width,
            height=height,
            detections=detections,
            static_items=static_items,
            detected=detected,
            signal_phase=phase,
        )
        hits = [hit for rule in self.rules for hit in rule.update(sample) if not self._reported_at_reload(hit)]
        stage["rules"] += (time.perf_counter() - started) * 1000.0

        started = time.perf_counter()
        self.redactor.update(frame.t, detections, detected, self.detector.raw_people if detected else [])
        redacted = None
        vouched = motion is not None and (motion.vouched or not self.redactor.enabled)
        if motion is not None:
            if vouched:
                explained = [d.box for d in detections] + self.redactor.regions(frame.t)
                redacted = self.redactor.apply(frame.image, frame.t, motion.unexplained(explained))
            else:
                redacted = self.redactor.apply_whole(frame.image)
            self.privacy.apply(redacted)
        stage["redact"] += (time.perf_counter() - started) * 1000.0

        started = time.perf_counter()
        if redacted is not None and vouched:
            self.ring.add(frame.index, frame.t, redacted)
            self._kept_t = frame.t
        messages = self._emit(hits)
        if self.annotate is not None and redacted is not None:
            self.annotate.write(redacted, frame.t, detections, messages)
        stage["encode"] += (time.perf_counter() - started) * 1000.0
        for observer in self.observers:
            observer.observe(sample, messages)

        self.stats.frames += 1
        self.stats.tick(time.monotonic(), detected)
        self.stats.detected_frames += int(detected)
        self.stats.source_seconds = frame.t
        return messages

    def _keeps(self, t: float) -> bool:
        """Whether this frame is redacted and kept for evidence (and so also looked at for motion): every frame of
        an annotated replay, else about KEPT_FPS a second."""
        return self.annotate is not None or t - self._kept_t >= 1.0 / KEPT_FPS - self._half_frame

    def finish(self) -> list[InfractionMessage]:
        """End of stream: let the rules flush what qualifies, wait for their evidence, close sinks and video."""
        hits = [hit for rule in self.rules for hit in rule.finish() if not self._reported_at_reload(hit)]
        messages = self._emit(hits, wait=True)
        self._send_items(self.items.finish())
        if self._worker is not None:
            self._worker.shutdown()
        if self.annotate is not None:
            self.annotate.close()
        for sink in self.sinks:
            sink.close()
        return messages

    @staticmethod
    def _evidence_of(hit: RuleHit, job: Future | None) -> list[tuple[EvidenceRef, Path]]:
        if job is None:
            return []
        try:
            return job.result()
        except (OSError, RuntimeError, cv2.error) as exc:
            # The event still counts without its pictures; a full disk must not drop infractions.
            log.warning("%s at frames %d-%d: evidence not written: %s", hit.type, hit.frame_start, hit.frame_end, exc)
            return []

    def _emit(self, hits: list[RuleHit], wait: bool = False) -> list[InfractionMessage]:
        """Queue the new hits; send, in order, every queued hit whose evidence is ready (all when `wait`)."""
        for hit in hits:
            job = None
            if self._worker is not None and self.evidence is not None:
                job = self._worker.submit(self.evidence.build, hit, self.ring.snapshot())
            # The zone as the hit was judged by: a reload may change the zones before its evidence is ready.
            zone = next((zone for zone in self.config.zones if zone.name == hit.zone), None)
            self._pending.append((hit, zone, job, self.items))
        messages = []
        while self._pending and (wait or self._pending[0][2] is None or self._pending[0][2].done()):
            hit, zone, job, follower = self._pending.popleft()
            evidence = self._evidence_of(hit, job)
            message = build_message(
                hit,
                self.config,
                origin=self.origin,
                model=self.detector.model_ref,
                evidence=[ref for ref, _ in evidence],
                redacted=self.redactor.enabled,
                zone=zone,
                clip=self.clip,
            )
            for sink in self.sinks:
                sink.emit(message, evidence)
            if hit.item_id is not None and hit.item_box is not None:
                follower.follow(message.event_id, hit.item_id, hit.item_box, hit.t_start, hit.t_end)
                if follower is not self.items:
                    # A reload replaced the follower while the evidence was built: nothing watches this item now,
                    # as for the items the reload let go.
                    self._send_items(follower.reset(self.stats.source_seconds))
            self.stats.events[message.type] += 1
            log.info(
                "%s: track %d in %s, frames %d-%d", hit.type, hit.track_id, hit.zone, hit.frame_start, hit.frame_end
            )
            messages.append(message)
        return messages

    def _follow_items(self, static: StaticRegionDetector, t: float) -> None:
        """After the static-region detector's update: what became of the items of littering events."""
        if static.rebuilds != self._static_rebuilds:
            # The backgrounds started over (camera moved, whole scene changed): every item is unknown now.
            self._static_rebuilds = static.rebuilds
            self._send_items(self.items.reset(t))
        self._send_items(self.items.update(t, self._static_items))

    def _send_items(self, observations: list[ItemObservation]) -> None:
        for observation in observations:
            status = build_item_status(observation, self.config, origin=self.origin)
            for sink in self.sinks:
                sink.emit_item(status)
            log.info(
                "littering item of event %s: %s, %.0f s after the drop",
                status.event_id,
                status.state,
                status.since_event_s,
            )


def run(pipeline: Pipeline, frames: Iterable[SourceFrame], progress: object | None = None) -> PipelineStats:
    """Drive the pipeline over a source until it ends; `progress` is a tqdm bar (or None)."""
    started = time.perf_counter()
    iterator = iter(frames)
    try:
        while True:
            before = time.perf_counter()
            frame = next(iterator, None)
            decode_ms = (time.perf_counter() - before) * 1000.0
            if frame is None:
                break
            pipeline.process(frame, decode_ms)
            pipeline.stats.wall_seconds = time.perf_counter() - started
            if progress is not None:
                progress.update(1)  # type: ignore[attr-defined]
    finally:
        pipeline.finish()
        pipeline.stats.wall_seconds = time.perf_counter() - started
    return pipeline.stats
