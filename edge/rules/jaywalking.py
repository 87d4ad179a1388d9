"""Jaywalking: a pedestrian in the roadway outside every crosswalk, or on a crosswalk against the signal.

Per track, a crossing starts where the foot first enters illegal ground, found along the segment between
two samples (so sparse samples and low fps give the same start and length), continues while the foot comes
back within `exit_grace_s`, and ends after that long outside. It qualifies by time (with some movement, so a
person standing at the kerb edge never counts) or by distance covered: the farthest the foot got from the
entry point, not the path length, so box jitter does not add up over many frames. One crossing gives one
event; a track that starts right where a crossing track vanished continues that crossing (tracker id
switch), judged by time and place alone: near where the other was last seen and within the walking reach of
that person in the time (in their body heights a second). A track whose feet jump further than that between
two detections has been moved onto someone else by the tracker: its crossing so far stays with the first person
(set aside where they were last seen, for the track that turns up there to continue), and the id starts afresh.
So each person's crossing is reported once, and two people's are never one event."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from edge.boxes import iou
from edge.ground import GroundPlane
from edge.rules.base import RuleHit, Scalar, coarse
from edge.rules.people import (
    RIDDEN_CLASSES,
    RIDE_BH_PER_S,
    VEHICLE_CLASSES,
    WALK_BH_PER_S,
    is_occupant,
    is_riding,
    tracked_people,
    within_reach,
)
from edge.samples import Detection, FrameSample
from models.config.camera import CameraConfig
from models.config.rules import JaywalkingConfig
from models.config.zones import Zone, ZoneKind
from models.geometry import Point, clamp01, point_in_polygon, segment_crosses_polygon
from models.infraction import SignalPhase

if TYPE_CHECKING:
    from edge.signal import PedestrianSignal

RULE_VERSION = "1.0"
STEP = 0.004
"""Sub-sampling step along a segment between samples, in normalised units (about 2-3 px at 640 px)."""
MAX_STEPS = 400
RIDER_SAMPLES = 2
LOOK_S = 1.0 / 12.0
"""Riding evidence is counted at most this often (12 looks a second: every frame of the 11 fps intersection, every
detection at the default `detector.fps`, every second or third frame of a 24-30 fps camera detecting each frame)."""
PARKED_S = 1.0
"""A bicycle or motorcycle found where one already stood at least this long ago is parked: nobody rides it, and
a walker passing in front of or behind it is still a pedestrian."""
PARKED_IOU = 0.5
PARKED_MEMORY_S = 5.0
"""How long a bicycle's place is remembered (the detector finds small parked bicycles only now and then)."""


@dataclass
class _Crossing:
    zone: str
    via: str
    phase: str | None
    t_start: float
    frame_start: int
    entry: Point
    t_last_in: float
    frame_last_in: int
    last_in: Point
    track_ids: list[int]
    distance: float = 0.0
    max_move: float = 0.0
    max_depth: float = 0.0
    points: list[tuple[float, float, float]] = field(default_factory=list)
    sample_frames: list[int] = field(default_factory=list)
    confidences: list[float] = field(default_factory=list)
    reported: bool = False
    holders: int = 1
    """Tracks that carry this crossing (more than one after a tracker id switch)."""


@dataclass
class _Track:
    track_id: int
    last_t: float
    last_index: int
    last_foot: Point
    height: float = 0.0
    """The last box's height (normalised to the frame's): how far this person can walk is measured in it."""
    velocity: Point = (0.0, 0.0)
    samples: int = 0
    """Looks at whether the track rides (at most one every LOOK_S)."""
    riding: int = 0
    """Those looks that saw a bicycle or motorcycle under them (or a car around them)."""
    look_t: float = -math.inf
    look_riding: bool = False
    on_legal_crosswalk: bool = False
    crossing: _Crossing | None = None

    def look(self, t: float, riding: bool) -> None:
        """One detection's evidence of riding, counted at most once every LOOK_S: a camera detecting every frame
        of a 30 fps stream sees the stray bicycle boxes the model puts on walking legs five times as often as
        one detecting every fifth frame, and must judge a walker the same."""
        if t - self.look_t >= LOOK_S - 1e-6:
            self.look_t, self.look_riding = t, riding
            self.samples += 1
            self.riding += riding
        elif riding and not self.look_riding:
            self.look_riding = True
            self.riding += 1


class JaywalkingRule:
    name: ClassVar[str] = "jaywalking"
    needs_zone: ClassVar[ZoneKind] = "roadway"

    @staticmethod
    def enabled(config: CameraConfig) -> bool:
        return config.rules.jaywalking.enabled

    @staticmethod
    def inputs(config: CameraConfig) -> tuple[object, ...]:
        # The signal too: which crosswalk crossings count depends on it.
        return (config.zones, config.rules.jaywalking, config.calibration, config.signal)

    @classmethod
    def build(cls, config: CameraConfig) -> JaywalkingRule:
        return cls(config.zones, config.rules.jaywalking, GroundPlane(config.calibration))

    def __init__(
        self,
        zones: list[Zone],
        config: JaywalkingConfig,
        ground: GroundPlane | None = None,
        signal: PedestrianSignal | None = None,
    ) -> None:
        self.config = config
        self.ground = ground or GroundPlane(None)
        self.signal = signal
        self.roadways = [z for z in zones if z.kind == "roadway"]
        self.crosswalks = [z for z in zones if z.kind == "crosswalk"]
        self.ignores = [z for z in zones if z.kind == "ignore"]
        self._tracks: dict[int, _Track] = {}
        self._detached = 0
        """Keys below 0 in `_tracks`: crossings whose track id jumped to someone else, waiting to be continued."""
        self._ridden: deque[tuple[float, tuple[float, float, float, float]]] = deque()
        metric = self.ground.metric
        self._min_distance = config.min_distance_m if metric else config.min_distance
        self._min_move = config.min_move_m if metric else config.min_move

    # -- where a foot stands -------------------------------------------------------------------------------

    def _illegal_zone(self, p: Point, phase: str | None, legal_crosswalk: bool) -> tuple[str, str] | None:
        """(zone name, 'roadway' | 'crosswalk') when standing at p is jaywalking, else None."""
        if any(point_in_polygon(p, z.polygon) for z in self.ignores):
            return None
        for crosswalk in self.crosswalks:
            if point_in_polygon(p, crosswalk.polygon):
                if phase == "dont_walk" and not legal_crosswalk:
                    return crosswalk.name, "crosswalk"
                return None
        for roadway in self.roadways:
            if point_in_polygon(p, roadway.polygon):
                return roadway.name, "roadway"
        return None

    def _depth(self, p: Point, zone_name: str) -> float:
        """How far inside illegal ground p is (frame widths): to the edge of its zone or of any crosswalk."""
        aspect = self.ground.aspect
        outlines = [z.polygon for z in self.crosswalks]
        outlines += [z.polygon for z in self.roadways if z.name == zone_name]
        # A roadway over the whole picture has no edge in view: as deep as anything gets.
        return min(MAX_DEPTH, *(_distance_to_outline(p, polygon, aspect) for polygon in outlines))

    def _in_crosswalk(self, p: Point) -> bool:
        return any(point_in_polygon(p, z.polygon) for z in self.crosswalks)

    def _may_touch(self, a: Point, b: Point) -> bool:
        return any(segment_crosses_polygon(a, b, z.polygon) for z in (*self.roadways, *self.crosswalks))

    # -- driving -------------------------------------------------------------------------------------------

    def _phase(self, sample: FrameSample) -> SignalPhase | None:
        """The phase read with the frame; a rule given a `signal` asks it when the sample carries none."""
        if sample.signal_phase is None and self.signal is not None:
            return self.signal.phase(sample.t, sample.wall, None)
        return sample.signal_phase

    def update(self, sample: FrameSample) -> list[RuleHit]:
        if not sample.detected:
            return []
        self.ground.with_frame_size(sample.width, sample.height)
        phase = self._phase(sample)
        everyone = tracked_people(sample.detections, 0.0)
        people = [d for d in everyone if d.confidence >= self.config.min_person_confidence]
        vehicles = self._unparked(sample)
        seen = {d.track_id for d in people if d.track_id is not None}
        hits: list[RuleHit] = []
        for person in everyone:
            # a detection too weak to place the feet still shows whether its track rides a bicycle
            track = self._tracks.get(person.track_id)  # type: ignore[arg-type]
            if track is not None and person.track_id not in seen:
                track.look(sample.t, is_riding(person, vehicles) or is_occupant(person, vehicles))
        for person in people:
            track = self._tracks.get(person.track_id)  # type: ignore[arg-type]
            if track is not None and not self._walked(track, person, sample.t):
                # The tracker moved this id onto someone else (two people swapped ids, or one took another's):
                # the crossing so far stays with the person who made it, set aside where they were last seen, for
                # whichever track turns up there next (as after any id switch); this id starts afresh.
                self._detached -= 1
                self._tracks[self._detached] = self._tracks.pop(person.track_id)  # type: ignore[arg-type]
        for person in people:
            track_id = person.track_id
            assert track_id is not None
            track = self._tracks.get(track_id) or self._adopt_or_create(track_id, person, sample, seen)
            track.height = person.box[3] - person.box[1]
            track.look(sample.t, is_riding(person, vehicles) or is_occupant(person, vehicles))
            self._step(track, person.foot, person.confidence, sample, phase)
            hit = self._settle(track, sample)
            if hit is not None:
                hits.append(hit)
        for track_id in [tid for tid in self._tracks if tid not in seen]:
            track = self._tracks[track_id]
            if sample.t - track.last_t <= self.config.id_switch_s:
                continue
            del self._tracks[track_id]
            if track.crossing is not None and track.crossing.holders > 1:
                track.crossing.holders -= 1  # another track carries this crossing on
                continue
            hit = self._close(track)
            if hit is not None:
                hits.append(hit)
        return hits

    def _unparked(self, sample: FrameSample) -> list[Detection]:
        """This sample's vehicles, less the bicycles and motorcycles standing where one stood a while ago."""
        t = sample.t
        while self._ridden and self._ridden[0][0] < t - PARKED_MEMORY_S:
            self._ridden.popleft()
        out = []
        for d in sample.detections:
            if d.cls not in VEHICLE_CLASSES:
                continue
            if d.cls in RIDDEN_CLASSES:
                parked = any(t - seen >= PARKED_S and iou(box, d.box) >= PARKED_IOU for seen, box in self._ridden)
                self._ridden.append((t, d.box))
                if parked:
                    continue
            out.append(d)
        return out

    def finish(self) -> list[RuleHit]:
        hits = [hit for track in self._tracks.values() if (hit := self._close(track)) is not None]
        self._tracks.clear()
        return hits

    def _walked(self, track: _Track, person: Detection, t: float) -> bool:
        """Whether the track's last feet can have walked to this detection's in the time."""
        elapsed = t - track.last_t
        speed = _speed(track)
        aspect = self.ground.aspect
        return track.height <= 0 or within_reach(track.last_foot, person.foot, track.height, elapsed, aspect, speed)

    def _adopt_or_create(self, track_id: int, person: Detection, sample: FrameSample, seen: set[int]) -> _Track:
        """A new track id: continue the crossing of a track that vanished just before, close by and within the
        vanished person's walking reach in the time (a person further away is someone else, whose crossing is their
        own event). The old track keeps its share of the crossing (the tracker may find it again); the crossing
        reports once."""
        foot = person.foot
        best: tuple[float, _Track] | None = None
        for old_id, old in self._tracks.items():
            gap = sample.t - old.last_t
            if old.crossing is None or old_id in seen or not 0.0 < gap <= self.config.id_switch_s:
                continue
            if old.height > 0 and not within_reach(
                old.last_foot, foot, old.height, gap, self.ground.aspect, _speed(old)
            ):
                continue
            predicted = (old.last_foot[0] + old.velocity[0] * gap, old.last_foot[1] + old.velocity[1] * gap)
            near = min(self._image_distance(foot, old.last_foot), self._image_distance(foot, predicted))
            if near <= self.config.id_switch_distance and (best is None or near < best[0]):
                best = (near, old)
        if best is None:
            track = _Track(track_id, sample.t, sample.index, foot)
        else:
            old = best[1]
            crossing = old.crossing
            assert crossing is not None
            crossing.track_ids.append(track_id)
            crossing.holders += 1
            track = _Track(
                track_id,
                old.last_t,
                old.last_index,
                old.last_foot,
                velocity=old.velocity,
                samples=old.samples,
                riding=old.riding,
                on_legal_crosswalk=old.on_legal_crosswalk,
                crossing=crossing,
            )
        self._tracks[track_id] = track
        return track

    def _image_distance(self, a: Point, b: Point) -> float:
        return self.ground.frame_widths(a, b)

    # -- one track, one step -------------------------------------------------------------------------------

    def _step(self, track: _Track, foot: Point, confidence: float, sample: FrameSample, phase: str | None) -> None:
        """Walk the segment from the track's last foot position to this one in small steps, placing each
        boundary crossing exactly by bisection, so entry and exit times do not depend on the frame rate."""
        first = track.last_index == sample.index and track.last_t == sample.t
        a, t0, i0 = track.last_foot, track.last_t, track.last_index
        t1, i1 = sample.t, sample.index

        def point(f: float) -> Point:
            return (a[0] + (foot[0] - a[0]) * f, a[1] + (foot[1] - a[1]) * f)

        def illegal(f: float) -> tuple[str, str] | None:
            return self._illegal_zone(point(f), phase, track.on_legal_crosswalk)

        def visit(f: float, where: tuple[str, str] | None) -> None:
            p = point(f)
            t, frame = t0 + (t1 - t0) * f, round(i0 + (i1 - i0) * f)
            track.on_legal_crosswalk = where is None and self._in_crosswalk(p)
            crossing = track.crossing
            if where is not None and crossing is None:
                track.crossing = _Crossing(
                    zone=where[0],
                    via=where[1],
                    phase=phase,
                    t_start=t,
                    frame_start=frame,
                    entry=p,
                    t_last_in=t,
                    frame_last_in=frame,
                    last_in=p,
                    track_ids=[track.track_id],
                    points=[(t, p[0], p[1])],
                )
            elif where is not None and crossing is not None:
                crossing.distance += self.ground.distance(crossing.last_in, p)
                crossing.max_move = max(crossing.max_move, self.ground.distance(crossing.entry, p))
                crossing.max_depth = max(crossing.max_depth, self._depth(p, crossing.zone))
                crossing.t_last_in, crossing.frame_last_in, crossing.last_in = t, frame, p

        if first or not self._may_touch(a, foot):
            visit(1.0, illegal(1.0))
        else:
            steps = min(MAX_STEPS, max(1, math.ceil(math.dist(a, foot) / STEP)))
            previous_f, previous = 0.0, illegal(0.0)
            for k in range(1, steps + 1):
                f = k / steps
                where = illegal(f)
                if (where is None) != (previous is None):
                    edge_f = _boundary(previous_f, f, lambda g: illegal(g) is not None, inside_high=where is not None)
                    visit(edge_f, illegal(edge_f))
                visit(f, where)
                previous_f, previous = f, where
        if track.crossing is not None:
            crossing = track.crossing
            if crossing.points[-1][0] < t1:
                crossing.points.append((t1, foot[0], foot[1]))
            crossing.sample_frames.append(i1)
            crossing.confidences.append(confidence)
        if t1 > t0:
            track.velocity = ((foot[0] - a[0]) / (t1 - t0), (foot[1] - a[1]) / (t1 - t0))
        track.last_foot, track.last_t, track.last_index = foot, t1, i1

    def _qualifies(self, crossing: _Crossing) -> bool:
        duration = crossing.t_last_in - crossing.t_start
        if crossing.max_depth < self.config.min_depth:
            return False
        by_time = duration >= self.config.min_duration_s and crossing.max_move >= self._min_move
        return by_time or crossing.max_move >= self._min_distance

    def _settle(self, track: _Track, sample: FrameSample) -> RuleHit | None:
        """End the crossing after `exit_grace_s` outside, or report a long one that has not ended yet."""
        crossing = track.crossing
        if crossing is None:
            return None
        if sample.t - crossing.t_last_in >= self.config.exit_grace_s:
            return self._close(track)
        if not crossing.reported and sample.t - crossing.t_start >= self.config.max_crossing_s:
            hit = self._hit(track, crossing)
            crossing.reported = hit is not None or crossing.reported
            return hit
        return None

    def _close(self, track: _Track) -> RuleHit | None:
        crossing, track.crossing = track.crossing, None
        if crossing is None:
            return None
        crossing.holders -= 1
        if crossing.reported:
            return None
        hit = self._hit(track, crossing)
        crossing.reported = hit is not None
        return hit

    def _hit(self, track: _Track, crossing: _Crossing) -> RuleHit | None:
        rider_share = track.riding / max(track.samples, 1)
        if _is_rider(track) or not self._qualifies(crossing):
            return None
        duration = crossing.t_last_in - crossing.t_start
        cfg = self.config
        time_ratio = duration / cfg.min_duration_s if cfg.min_duration_s > 0 else 2.0
        distance_ratio = crossing.max_move / self._min_distance if self._min_distance > 0 else 2.0
        strength = min(1.0, max(time_ratio, distance_ratio) / 2.0)
        person = sum(crossing.confidences) / len(crossing.confidences) if crossing.confidences else 0.5
        inside = [p for p in crossing.points if p[0] < crossing.t_last_in - 1e-9]
        inside.append((crossing.t_last_in, *crossing.last_in))
        trajectory = [(round(t - crossing.t_start, 3), clamp01(x), clamp01(y)) for t, x, y in inside]
        frames = [f for f in crossing.sample_frames if f <= crossing.frame_last_in] or [crossing.frame_last_in]
        key_frames = tuple(dict.fromkeys((frames[0], frames[len(frames) // 2], frames[-1])))
        unit = self.ground.unit
        thresholds: dict[str, Scalar] = {
            "min_duration_s": cfg.min_duration_s,
            "min_distance": self._min_distance,
            "min_move": self._min_move,
            "min_depth": cfg.min_depth,
            "exit_grace_s": cfg.exit_grace_s,
            "id_switch_s": cfg.id_switch_s,
            "id_switch_distance": cfg.id_switch_distance,
            "min_person_confidence": cfg.min_person_confidence,
            "unit": unit,
        }
        measurements: dict[str, Scalar] = {
            "duration_s": round(duration, 3),
            "distance": round(crossing.distance, 4),
            "max_move": round(crossing.max_move, 4),
            "max_depth": round(crossing.max_depth, 4),
            "speed_per_s": round(crossing.distance / duration, 4) if duration > 0 else None,
            "unit": unit,
            "entered": crossing.via,
            "samples": len(crossing.confidences),
            "track_ids": ",".join(str(t) for t in crossing.track_ids),
            "id_switches": len(crossing.track_ids) - 1,
            "rider_share": round(rider_share, 3),
            "mean_person_confidence": round(person, 3),
        }
        return RuleHit(
            type="jaywalking",
            track_id=crossing.track_ids[0],
            zone=crossing.zone,
            frame_start=crossing.frame_start,
            frame_end=max(crossing.frame_last_in, crossing.frame_start),
            t_start=crossing.t_start,
            t_end=crossing.t_last_in,
            confidence=clamp01(person * (0.6 + 0.4 * strength)),
            trajectory=coarse(trajectory),
            thresholds=thresholds,
            measurements=measurements,
            rule_version=RULE_VERSION,
            signal_phase=crossing.phase,
            key_frames=key_frames,
        )


def _speed(track: _Track) -> float:
    """How fast (body heights a second) this track's person may have moved: a bicycle seen under them once is
    enough to allow a rider's speed."""
    return RIDE_BH_PER_S if track.riding else WALK_BH_PER_S


def _is_rider(track: _Track) -> bool:
    """Small bicycles are often missed by the detector, so a few clear riding samples make a rider."""
    return track.riding >= RIDER_SAMPLES or track.riding >= 0.5 * track.samples > 0


def _boundary(low: float, high: float, inside: Callable[[float], bool], inside_high: bool) -> float:
    """The fraction just on the inside of the one boundary between `low` and `high`, by bisection."""
    for _ in range(16):
        mid = (low + high) / 2.0
        if inside(mid) == inside_high:
            high = mid
        else:
            low = mid
    return high if inside_high else low


MAX_DEPTH = 1.0
"""Frame widths: deeper than any roadway edge in the picture can be."""
FRAME_BORDER = 0.002
"""An outline edge with both ends this close to the same side of the frame lies along the frame's border."""


def _on_border(a: float, b: float) -> bool:
    return (a <= FRAME_BORDER and b <= FRAME_BORDER) or (a >= 1.0 - FRAME_BORDER and b >= 1.0 - FRAME_BORDER)


def _distance_to_outline(p: Point, polygon: list[tuple[float, float]], aspect: float) -> float:
    """Distance from p to the nearest edge of the polygon, vertical offsets scaled by `aspect`. Edges along the
    frame's border do not count: the road goes on beyond the picture, so a walker close to the lens whose feet
    are at the bottom of the frame is deep in a roadway drawn down to it, not at its edge."""
    px, py = p[0], p[1] * aspect
    best = math.inf
    for (ax, ay), (bx, by) in zip(polygon, [*polygon[1:], polygon[0]], strict=True):
        if _on_border(ax, bx) or _on_border(ay, by):
            continue
        ay, by = ay * aspect, by * aspect
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        f = 0.0 if length2 == 0 else clamp01(((px - ax) * dx + (py - ay) * dy) / length2)
        best = min(best, math.hypot(px - ax - f * dx, py - ay - f * dy))
    return best
