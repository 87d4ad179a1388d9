"""The jaywalking rule on hand-written tracks: a road band across the frame (y 0.4..0.6) with a zebra
crosswalk at x 0.7..0.8, sidewalks above and below."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge.ground import GroundPlane
from edge.rules import build_rules
from edge.rules.jaywalking import JaywalkingRule
from edge.signal import FixedTimeSignal
from models.config.calibration import CalibrationConfig
from models.config.camera import parse_camera_config
from models.config.rules import JaywalkingConfig
from models.config.signal import FixedSignal
from tests.rule_tracks import lerp, person, run, sample, thing, timeline, zone

ZONES = [
    zone("main-road", "roadway", 0.0, 0.4, 1.0, 0.6),
    zone("zebra", "crosswalk", 0.7, 0.38, 0.8, 0.62),
    zone("work-site", "ignore", 0.0, 0.35, 0.1, 0.65),
]


def rule(**overrides: object) -> JaywalkingRule:
    return JaywalkingRule(ZONES, JaywalkingConfig(**overrides))  # type: ignore[arg-type]


def walk(x: float, t_from: float = 0.0, seconds: float = 4.0, track_id: int = 1):
    """Straight across the road from y 0.3 to 0.7 in `seconds`: in the road from 1/4 to 3/4 of the time."""
    return lambda t: [person(track_id, lerp((x, 0.3), (x, 0.7), (t - t_from) / seconds))]


def test_a_crossing_outside_the_crosswalk_is_one_event_with_its_trace() -> None:
    hits = run(rule(), timeline(30, 6, walk(0.3)))
    assert len(hits) == 1
    hit = hits[0]
    assert (hit.type, hit.zone, hit.track_id) == ("jaywalking", "main-road", 1)
    assert hit.t_start == pytest.approx(1.0, abs=0.02)
    assert hit.t_end == pytest.approx(3.0, abs=0.02)
    assert hit.frame_start == pytest.approx(30, abs=1)
    assert hit.frame_end == pytest.approx(90, abs=1)
    assert 2 <= len(hit.trajectory) <= 64
    assert hit.trajectory[0][0] == 0.0
    assert all(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 for _, x, y in hit.trajectory)
    assert hit.measurements["duration_s"] == pytest.approx(2.0, abs=0.05)
    assert hit.measurements["entered"] == "roadway"
    assert hit.thresholds["min_duration_s"] == 1.0
    assert hit.thresholds["unit"] == "frame_widths"
    assert 3 <= len(hit.key_frames) <= 5
    assert 0.0 < hit.confidence <= 1.0


def test_five_fps_and_thirty_fps_give_the_same_crossing() -> None:
    fast = run(rule(), timeline(30, 6, walk(0.3)))
    slow = run(rule(), timeline(5, 6, walk(0.3)))
    assert len(fast) == len(slow) == 1
    assert slow[0].t_start == pytest.approx(fast[0].t_start, abs=0.02)
    assert slow[0].t_end == pytest.approx(fast[0].t_end, abs=0.02)
    assert slow[0].measurements["max_move"] == pytest.approx(fast[0].measurements["max_move"], abs=0.005)


def test_entry_between_two_sparse_samples_is_found_on_the_segment() -> None:
    """Both samples are on the sidewalks, the walk between them crosses the road."""
    samples = [sample(0, 0.0, [person(1, (0.3, 0.3))]), sample(20, 2.0, [person(1, (0.3, 0.7))])]
    hits = run(rule(), samples)
    assert len(hits) == 1
    assert hits[0].t_start == pytest.approx(0.5, abs=0.01)
    assert hits[0].t_end == pytest.approx(1.5, abs=0.01)
    assert hits[0].frame_start == 5


def test_stepping_out_briefly_is_still_one_crossing_but_a_long_break_makes_two() -> None:
    def zigzag(pause_s: float):
        """Into the road, back to the kerb for `pause_s`, then across."""

        def at(t: float):
            if t < 1.5:
                return [person(1, lerp((0.3, 0.3), (0.3, 0.5), t / 1.5))]
            if t < 2.0:
                return [person(1, lerp((0.3, 0.5), (0.3, 0.35), (t - 1.5) / 0.5))]
            if t < 2.0 + pause_s:
                return [person(1, (0.3, 0.35))]
            return [person(1, lerp((0.3, 0.35), (0.3, 0.7), (t - 2.0 - pause_s) / 2.0))]

        return at

    assert len(run(rule(), timeline(10, 6, zigzag(0.3)))) == 1
    assert len(run(rule(), timeline(10, 9, zigzag(3.0)))) == 2


def test_a_cyclist_riding_across_is_not_a_pedestrian() -> None:
    def riding(t: float):
        rider = person(4, lerp((0.3, 0.3), (0.3, 0.7), t / 4))
        fx, fy = rider.foot
        return [rider, thing("bicycle", (fx - 0.04, fy - 0.08, fx + 0.04, fy + 0.005), 9)]

    assert run(rule(), timeline(10, 6, riding)) == []
    assert len(run(rule(), timeline(10, 6, walk(0.3, track_id=4)))) == 1


def test_crosswalk_is_legal_on_walk_and_illegal_on_dont_walk() -> None:
    assert run(rule(), timeline(10, 6, walk(0.75), phase="walk")) == []
    assert run(rule(), timeline(10, 6, walk(0.75))) == []
    hits = run(rule(), timeline(10, 6, walk(0.75), phase="dont_walk"))
    assert len(hits) == 1
    assert (hits[0].zone, hits[0].signal_phase, hits[0].measurements["entered"]) == ("zebra", "dont_walk", "crosswalk")


def test_someone_who_started_on_walk_may_finish_when_the_signal_changes() -> None:
    samples = [replace(s, signal_phase="walk" if s.t < 1.5 else "dont_walk") for s in timeline(10, 6, walk(0.75))]
    assert run(rule(), samples) == []


def test_a_fixed_time_signal_object_is_asked_when_the_pipeline_gives_no_phase() -> None:
    plan = FixedTimeSignal(FixedSignal(mode="fixed", cycle_s=60, walk_s=20, offset_s=30, clock="source"))
    jay = JaywalkingRule(ZONES, JaywalkingConfig(), signal=plan)
    assert len(run(jay, timeline(10, 6, walk(0.75)))) == 1  # 0-6 s is don't walk in this plan
    jay = JaywalkingRule(ZONES, JaywalkingConfig(), signal=plan)
    assert run(jay, timeline(10, 40, walk(0.75, t_from=31))) == []  # 30-50 s is walk


def test_an_id_switch_mid_crossing_is_still_one_event() -> None:
    def switching(t: float):
        foot = lerp((0.3, 0.3), (0.3, 0.7), t / 8)  # in the road from 2 s to 6 s
        if 3.9 < t < 4.3:
            return []  # the tracker lost the person for a moment ...
        return [person(1 if t <= 3.9 else 2, foot)]  # ... and came back with a new id

    hits = run(rule(), timeline(10, 10, switching))
    assert len(hits) == 1
    assert hits[0].measurements["track_ids"] == "1,2"
    assert hits[0].measurements["id_switches"] == 1
    assert (hits[0].t_start, hits[0].t_end) == (pytest.approx(2.0, abs=0.05), pytest.approx(6.0, abs=0.05))


def test_an_id_switch_after_the_event_was_reported_does_not_report_again() -> None:
    def lingering(t: float):
        foot = lerp((0.3, 0.3), (0.3, 0.5), t / 2)
        return [person(1 if t < 40 else 2, foot)]

    hits = run(rule(max_crossing_s=10), timeline(5, 60, lingering))
    assert len(hits) == 1


def test_two_people_crossing_apart_are_two_events() -> None:
    def two(t: float):
        return walk(0.3, track_id=1)(t) + walk(0.5, track_id=2)(t)

    assert sorted(h.track_id for h in run(rule(), timeline(10, 6, two))) == [1, 2]


def test_a_new_person_far_away_does_not_inherit_a_crossing() -> None:
    def handover(t: float):
        if t < 3.0:
            return [person(1, lerp((0.3, 0.3), (0.3, 0.7), t / 4))]
        return [person(2, lerp((0.6, 0.3), (0.6, 0.7), (t - 3.0) / 4))]

    hits = run(rule(), timeline(10, 8, handover))
    assert sorted(h.track_id for h in hits) == [1, 2]


def test_standing_still_on_the_kerb_edge_raises_nothing() -> None:
    jitter = [0.0, 0.006, -0.004, 0.008, -0.006, 0.003]

    def standing(t: float):
        k = round(t * 10)
        return [person(3, (0.3 + jitter[k % 6] / 3, 0.402 + jitter[(k + 2) % 6]))]

    assert run(rule(), timeline(10, 30, standing)) == []


def test_skipped_frames_do_not_end_a_crossing() -> None:
    def slow_walk(t: float):
        return [person(1, lerp((0.3, 0.3), (0.3, 0.7), t / 8))]

    samples = timeline(10, 10, slow_walk)
    samples = [s if s.index % 25 == 0 else sample(s.index, s.t, detected=False) for s in samples]
    hits = run(rule(), samples)
    assert len(hits) == 1
    assert hits[0].t_start == pytest.approx(2.0, abs=0.05)
    assert hits[0].t_end == pytest.approx(6.0, abs=0.05)


def test_ignore_zones_suppress() -> None:
    assert run(rule(), timeline(10, 6, walk(0.05))) == []


def test_a_calibrated_camera_measures_metres() -> None:
    calibration = CalibrationConfig(
        image_points=[(0.0, 0.4), (1.0, 0.4), (1.0, 0.6), (0.0, 0.6)],
        ground_points=[(0.0, 0.0), (40.0, 0.0), (40.0, 8.0), (0.0, 8.0)],
    )
    jay = JaywalkingRule(ZONES, JaywalkingConfig(), GroundPlane(calibration))
    hits = run(jay, timeline(10, 6, walk(0.3)))
    assert len(hits) == 1
    assert hits[0].measurements["unit"] == "m"
    assert hits[0].measurements["max_move"] == pytest.approx(8.0, abs=0.1)
    assert hits[0].measurements["speed_per_s"] == pytest.approx(4.0, abs=0.1)
    assert hits[0].thresholds["min_distance"] == 2.0


def test_build_rules_returns_only_enabled_rules() -> None:
    base = {
        "camera": {"id": "cam-1", "site": "s1"},
        "source": {"uri": "clip.mp4"},
        "zones": [{"name": "road", "kind": "roadway", "polygon": [[0, 0.4], [1, 0.4], [1, 0.6]]}],
    }
    assert [r.name for r in build_rules(parse_camera_config(base))] == ["jaywalking", "littering"]
    off = {**base, "rules": {"jaywalking": {"enabled": False}}}
    assert [r.name for r in build_rules(parse_camera_config(off))] == ["littering"]


def test_walking_along_the_kerb_line_just_inside_a_loosely_drawn_roadway_raises_nothing() -> None:
    def along(t: float):
        return [person(5, lerp((0.2, 0.41), (0.5, 0.41), t / 6))]  # 0.01 inside the road's edge, for 6 s

    assert run(rule(), timeline(10, 6, along)) == []


def test_a_cyclist_whose_bicycle_is_seen_only_now_and_then_is_still_a_rider() -> None:
    def riding(t: float):
        rider = person(4, lerp((0.3, 0.3), (0.3, 0.7), t / 4))
        fx, fy = rider.foot
        seen = round(t * 10) % 10 in (0, 1)  # the small bicycle is detected in one frame in five
        return [rider, thing("bicycle", (fx - 0.04, fy - 0.08, fx + 0.04, fy + 0.005), 9)] if seen else [rider]

    assert run(rule(), timeline(10, 6, riding)) == []


def test_an_old_track_found_again_after_its_crossing_moved_to_a_new_id_is_not_a_second_event() -> None:
    def duplicated(t: float):
        foot = lerp((0.3, 0.3), (0.3, 0.7), t / 8)
        if 3.0 < t < 3.5:
            return [person(2, foot)]  # the tracker lost id 1 and started id 2 on the same person ...
        if 3.5 <= t < 4.0:
            return [person(2, foot), person(1, (foot[0] + 0.01, foot[1]))]  # ... then found id 1 again
        return [person(1 if t <= 3.0 else 2, foot)]

    assert len(run(rule(), timeline(10, 10, duplicated))) == 1


@settings(max_examples=40, deadline=None)
@given(
    fps=st.floats(min_value=2.0, max_value=30.0),
    seconds=st.floats(min_value=2.0, max_value=12.0),
    x=st.floats(min_value=0.2, max_value=0.55),
    drift=st.floats(min_value=-0.08, max_value=0.08),
)
def test_any_frame_rate_finds_the_same_entry_and_exit_as_the_geometry(
    fps: float, seconds: float, x: float, drift: float
) -> None:
    """A straight walk from y 0.3 to 0.7 clear of the zebra and the ignore zone: the road (y 0.4..0.6) is
    entered at 1/4 and left at 3/4 of the time."""
    start, end = (x, 0.3), (x + drift, 0.7)
    samples = [
        sample(i, i / fps, [person(1, lerp(start, end, i / fps / seconds))])
        for i in range(int(seconds * fps * 1.3) + 2)
    ]
    hits = run(rule(), samples)
    assert len(hits) == 1
    assert hits[0].t_start == pytest.approx(seconds / 4, abs=1e-3)
    assert hits[0].t_end == pytest.approx(3 * seconds / 4, abs=1e-3)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 0.38)), min_size=2, max_size=40))
def test_a_walk_that_stays_on_the_pavement_never_fires(points: list[tuple[float, float]]) -> None:
    """However erratic, a walk above the road (y <= 0.38) never touches it, not even between samples."""
    samples = [sample(i, i * 0.5, [person(1, p)]) for i, p in enumerate(points)]
    assert run(rule(), samples) == []


def test_a_driver_seen_through_the_windscreen_is_not_a_pedestrian() -> None:
    def driving(t: float):
        x = 0.1 + 0.1 * t  # the car drives along the road; its driver shows through the side window
        return [thing("car", (x, 0.34, x + 0.2, 0.58), 3), person(8, (x + 0.12, 0.52))]

    assert run(rule(), timeline(10, 6, driving)) == []


def test_a_pedestrian_walking_in_front_of_a_car_is_still_a_pedestrian() -> None:
    def in_front(t: float):
        walker = walk(0.4)(t)
        return [*walker, thing("car", (0.3, 0.38, 0.55, 0.52), 3)]

    assert len(run(rule(), timeline(10, 6, in_front))) == 1


def test_a_rider_whose_box_stops_at_the_saddle_is_still_a_rider() -> None:
    """The person box ends at the saddle, the bicycle's box hangs below it: little shared area, but it lies across
    the lower half of the person's box, at the height of the feet."""

    def riding(t: float):
        rider = person(4, lerp((0.3, 0.3), (0.3, 0.7), t / 4))
        fx, fy = rider.foot
        return [rider, thing("bicycle", (fx - 0.04, fy - 0.03, fx + 0.04, fy + 0.06), 9)]

    assert run(rule(), timeline(10, 6, riding)) == []


def test_a_walker_passing_close_to_a_parked_bicycle_is_still_a_pedestrian() -> None:
    """A bicycle standing in the road the whole time: the walker's legs cross its box, but nobody rides it."""
    parked = thing("bicycle", (0.28, 0.48, 0.36, 0.53), 9)
    hits = run(rule(), timeline(10, 6, lambda t: [*walk(0.3)(t), parked]))
    assert len(hits) == 1


def test_weak_detections_of_a_rider_still_show_the_bicycle_under_them() -> None:
    """The detector is unsure of the rider (below min_person_confidence) in the two frames where it also sees the
    small bicycle: those frames cannot place the feet, but they do say the track rides."""

    def riding(t: float):
        step = round(t * 10)
        seen = step in (20, 21)
        rider = person(4, lerp((0.3, 0.3), (0.3, 0.7), t / 4), confidence=0.2 if seen else 0.8)
        fx, fy = rider.foot
        return [rider, thing("bicycle", (fx - 0.04, fy - 0.08, fx + 0.04, fy + 0.005), 9)] if seen else [rider]

    assert run(rule(), timeline(10, 6, riding)) == []
    assert run(rule(min_person_confidence=0.1), timeline(10, 6, riding)) == []


def test_two_walkers_whose_tracker_ids_swap_mid_road_are_each_reported_once_as_themselves() -> None:
    """Ids 1 and 2 swap at t = 4 s (the tracker mixed the two up): each person's crossing is still one event, with
    the trajectory of that person alone."""

    def swapped(t: float):
        a = lerp((0.3, 0.3), (0.3, 0.7), t / 8)  # both in the road from 2 s to 6 s
        b = lerp((0.55, 0.3), (0.55, 0.7), t / 8)
        return [person(1, a), person(2, b)] if t < 4.0 else [person(2, a), person(1, b)]

    hits = run(rule(), timeline(6, 9, swapped))
    assert len(hits) == 2
    for hit in hits:
        xs = {round(p[1], 2) for p in hit.trajectory}
        assert len(xs) == 1, f"one person's walk, not two: {hit.trajectory}"
        assert (hit.t_start, hit.t_end) == (pytest.approx(2.0, abs=0.2), pytest.approx(6.0, abs=0.2))
        assert hit.measurements["id_switches"] == 1


def test_an_id_that_jumps_from_a_walker_hidden_mid_road_to_another_far_away_reports_both() -> None:
    """The first walker is hidden by a van at 2.5 s, in the road; the tracker puts id 1 on a second walker."""

    def handed_on(t: float):
        if t < 2.5:
            return [person(1, lerp((0.3, 0.3), (0.3, 0.7), t / 4))]
        return [person(1, lerp((0.6, 0.45), (0.6, 0.7), (t - 2.5) / 4))]  # stepping off a bus island

    hits = run(rule(), timeline(6, 9, handed_on))
    assert len(hits) == 2
    assert sorted(round(h.trajectory[0][1], 1) for h in hits) == [0.3, 0.6]


def test_a_walker_whose_feet_are_at_the_bottom_of_the_picture_is_deep_in_a_roadway_drawn_down_to_it() -> None:
    """Close to the lens the box stops at the frame's bottom edge: that edge is where the picture ends, not where
    the road does, so it gives no depth limit."""
    near_road = [zone("road", "roadway", 0.0, 0.7, 1.0, 1.0)]

    def across(t: float):
        return [person(1, lerp((0.1, 1.0), (0.9, 1.0), t / 4))]

    hits = run(JaywalkingRule(near_road, JaywalkingConfig()), timeline(6, 4, across))
    assert len(hits) == 1 and hits[0].measurements["max_depth"] > 0.1


def test_a_roadway_over_the_whole_picture_fires_and_its_event_can_be_signed() -> None:
    everywhere = [zone("road", "roadway", 0.0, 0.0, 1.0, 1.0)]

    def across(t: float):
        return [person(1, lerp((0.1, 0.5), (0.9, 0.5), t / 4))]

    [hit] = run(JaywalkingRule(everywhere, JaywalkingConfig()), timeline(6, 4, across))
    assert hit.measurements["max_depth"] == 1.0
