"""The littering rule on hand-written tracks and static items: a pavement watched for litter (y > 0.5)."""

from __future__ import annotations

import pytest

from edge.rules.littering import LitteringRule
from edge.samples import StaticItem
from models.config.rules import LitteringConfig
from tests.rule_tracks import lerp, person, run, sample, thing, zone

ZONES = [zone("pavement", "litter_watch", 0.0, 0.5, 1.0, 1.0), zone("kiosk", "ignore", 0.0, 0.5, 0.1, 1.0)]
BAG = StaticItem(item_id=7, box=(0.52, 0.66, 0.56, 0.70), first_seen_t=3.0, area=0.0016)
FPS = 10


def rule(**overrides: object) -> LitteringRule:
    return LitteringRule(ZONES, LitteringConfig(**overrides))  # type: ignore[arg-type]


def scene(seconds: float, owner_at, item_present=lambda t: t >= 5.0, item: StaticItem = BAG, extra=lambda t: []):
    """The detector reports the item from 5 s (it appeared at 3 s, once still it enters the short-term model)."""
    samples = []
    for i in range(round(seconds * FPS) + 1):
        t = i / FPS
        foot = owner_at(t)
        people = [person(1, foot)] if foot is not None else []
        items = [item] if item_present(t) else []
        samples.append(sample(i, t, people + extra(t), items=items))
    return samples


def drops_and_leaves(t: float):
    """Walks up, stands by the bag 2-4 s, walks off to the right from 4 s, out of view after 9 s."""
    if t < 2.0:
        return lerp((0.2, 0.7), (0.5, 0.7), t / 2.0)
    if t < 4.0:
        return (0.5, 0.7)
    if t < 9.0:
        return lerp((0.5, 0.7), (0.98, 0.72), (t - 4.0) / 5.0)
    return None


def test_dropping_an_item_and_walking_away_is_one_event_with_its_trace() -> None:
    hits = run(rule(), scene(30, drops_and_leaves))
    assert len(hits) == 1
    hit = hits[0]
    assert (hit.type, hit.zone, hit.track_id, hit.item_box) == ("littering", "pavement", 1, BAG.box)
    assert hit.t_start == pytest.approx(3.0)
    assert hit.frame_start == 30
    # farther than 0.15 frame widths from the bag from about 6 s; the grace time is 5 s
    assert hit.t_end == pytest.approx(11.0, abs=0.2)
    assert hit.measurements["owner_away_s"] >= 5.0
    assert hit.measurements["static_s"] >= 2.0
    assert (hit.measurements["item_x"], hit.measurements["item_y"]) == pytest.approx((0.54, 0.70))
    assert hit.thresholds["grace_s"] == 5.0
    assert 2 <= len(hit.trajectory) <= 64 and hit.trajectory[0][0] >= 0.0
    assert 2 <= len(hit.key_frames) <= 5
    assert 0.0 < hit.confidence <= 1.0


def test_picking_the_item_up_inside_the_grace_time_raises_nothing() -> None:
    def comes_back(t: float):
        if t < 6.0:
            return drops_and_leaves(t)
        return lerp((0.74, 0.71), (0.54, 0.7), (t - 6.0) / 2.0)

    littering = rule()
    assert run(littering, scene(30, comes_back, item_present=lambda t: 5.0 <= t < 8.5)) == []
    assert littering.cancelled == 1
    assert run(rule(), scene(30, drops_and_leaves, item_present=lambda t: 5.0 <= t < 9.0)) == []


def test_an_owner_who_stays_next_to_the_item_raises_nothing() -> None:
    assert run(rule(), scene(60, lambda t: drops_and_leaves(t) if t < 4.0 else (0.5 + 0.01 * (t % 2), 0.7))) == []


def test_an_owner_who_steps_away_briefly_and_returns_raises_nothing() -> None:
    def hovers(t: float):
        if t < 4.0 or t >= 8.0:
            return drops_and_leaves(min(t, 3.9))
        return (0.75, 0.7)

    assert run(rule(), scene(40, hovers)) == []


def test_an_item_nobody_was_near_is_not_littering() -> None:
    far = StaticItem(item_id=9, box=(0.82, 0.9, 0.86, 0.94), first_seen_t=3.0, area=0.0016)
    assert run(rule(), scene(30, drops_and_leaves, item=far)) == []


def test_a_person_standing_still_is_not_an_item_left_behind() -> None:
    """The detector missed a standing person for a while and their still body showed as a region."""
    body = StaticItem(item_id=3, box=(0.48, 0.55, 0.52, 0.7), first_seen_t=3.0, area=0.006)

    def stands_then_leaves(t: float):
        return (0.5, 0.7) if t < 12.0 else lerp((0.5, 0.7), (0.98, 0.7), (t - 12.0) / 3.0)

    assert run(rule(), scene(30, stands_then_leaves, item=body)) == []


def test_a_parked_bicycle_is_not_litter() -> None:
    bike = StaticItem(item_id=4, box=(0.45, 0.6, 0.58, 0.72), first_seen_t=3.0, area=0.0156)

    def bicycle(t: float):
        return [thing("bicycle", (0.44, 0.59, 0.59, 0.73), 11)] if t < 20 or t % 1 < 0.5 else []

    assert run(rule(), scene(30, drops_and_leaves, item=bike, extra=bicycle)) == []


def test_an_item_outside_the_watched_pavement_or_in_an_ignore_zone_is_not_littering() -> None:
    road = StaticItem(item_id=5, box=(0.52, 0.40, 0.56, 0.45), first_seen_t=3.0, area=0.0016)

    def near_road(t: float):
        foot = drops_and_leaves(t)
        return None if foot is None else (foot[0], foot[1] - 0.26)

    assert run(rule(), scene(30, near_road, item=road)) == []
    kiosk = StaticItem(item_id=6, box=(0.04, 0.66, 0.08, 0.70), first_seen_t=3.0, area=0.0016)
    assert (
        run(rule(), scene(30, lambda t: None if t > 9 else lerp((0.06, 0.7), (0.6, 0.7), (t - 4) / 5), item=kiosk))
        == []
    )


def test_a_detector_class_on_the_item_raises_confidence() -> None:
    plain = run(rule(), scene(30, drops_and_leaves))
    bag = run(rule(), scene(30, drops_and_leaves, extra=lambda t: [thing("backpack", BAG.box)] if t > 5 else []))
    assert len(plain) == len(bag) == 1
    assert bag[0].measurements["item_label"] == "backpack"
    assert bag[0].confidence > plain[0].confidence


def test_an_owner_id_switch_beside_the_item_is_still_the_owner() -> None:
    def relabelled(t: float):
        foot = drops_and_leaves(t) if t < 4.0 else (0.5, 0.7)
        return [person(1 if t < 8.0 else 2, foot)] if not 7.8 <= t < 8.2 else []

    samples = [
        sample(i, i / FPS, relabelled(i / FPS), items=[BAG] if i / FPS >= 5.0 else []) for i in range(40 * FPS + 1)
    ]
    assert run(rule(), samples) == []


def test_skipped_frames_do_not_count_as_the_owner_leaving() -> None:
    samples = scene(40, lambda t: drops_and_leaves(t) if t < 4.0 else (0.5, 0.7))
    samples = [s if s.index % 30 == 0 else sample(s.index, s.t, detected=False) for s in samples]
    assert run(rule(), samples) == []


def test_an_item_that_stays_for_a_minute_is_reported_once() -> None:
    assert len(run(rule(), scene(80, drops_and_leaves))) == 1


def test_a_calibrated_camera_uses_metres() -> None:
    from edge.ground import GroundPlane
    from models.config.calibration import CalibrationConfig

    calibration = CalibrationConfig(
        image_points=[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0), (0.0, 1.0)],
        ground_points=[(0.0, 0.0), (20.0, 0.0), (20.0, 10.0), (0.0, 10.0)],
    )
    hits = run(LitteringRule(ZONES, LitteringConfig(), GroundPlane(calibration)), scene(30, drops_and_leaves))
    assert len(hits) == 1
    assert hits[0].thresholds["owner_distance"] == 3.0
    assert hits[0].measurements["unit"] == "m"


def test_a_person_the_detector_lost_while_they_stood_still_is_not_litter() -> None:
    """They walk up, the detector stops seeing them while they stand, their still body shows as a region."""
    body = StaticItem(item_id=3, box=(0.48, 0.56, 0.53, 0.7), first_seen_t=3.0, area=0.007)

    def fades_out(t: float):
        return lerp((0.2, 0.7), (0.5, 0.7), t / 2.0) if t < 3.0 else None

    assert run(rule(), scene(30, fades_out, item=body)) == []


def test_no_event_while_someone_stands_at_the_item_and_one_once_they_go() -> None:
    """A second person stands right beside the bag from 6 s to 20 s (the owner left at 4 s): the region may be
    their feet, and a bag with someone at it is not left alone; the event waits until they walk off."""

    def bystander(t: float) -> list:
        return [person(2, (0.585, 0.70))] if 6.0 <= t < 20.0 else []

    hits = run(rule(), scene(40, drops_and_leaves, extra=bystander))
    assert len(hits) == 1 and hits[0].t_end == pytest.approx(20.0, abs=0.2)
    assert run(rule(), scene(19.5, drops_and_leaves, extra=bystander)) == []


def test_pieces_of_one_drop_are_one_event() -> None:
    """The bag's region splits in two as the owner walks off: two items side by side, one owner, one event."""
    left = StaticItem(item_id=7, box=(0.52, 0.66, 0.54, 0.70), first_seen_t=3.0, area=0.0008)
    right = StaticItem(item_id=8, box=(0.545, 0.66, 0.56, 0.70), first_seen_t=3.2, area=0.0006)

    samples = scene(30, drops_and_leaves)
    split = [sample(s.index, s.t, s.detections, items=[left, right] if s.t >= 5.0 else []) for s in samples]
    hits = run(rule(), split)
    assert len(hits) == 1 and hits[0].item_box in (left.box, right.box)


def test_an_owner_lost_beside_the_item_is_not_taken_to_have_left() -> None:
    """The owner's track ends at the bag (a post hides them, the crowd closes round them): nobody saw them leave,
    and the region may be their feet; nothing is reported however long it stays."""
    assert run(rule(), scene(40, lambda t: drops_and_leaves(t) if t < 4.0 else None)) == []


def test_an_item_only_kept_while_hidden_is_reported_once_it_is_seen_again() -> None:
    """From 6 s the static-region detector no longer finds the bag's region (it only keeps the item); the
    owner is long gone by 11 s, but the event waits for the bag to be seen again at 15 s."""

    def seen(t: float) -> StaticItem:
        last = t if t < 6.0 or t >= 15.0 else 6.0
        return StaticItem(BAG.item_id, BAG.box, BAG.first_seen_t, BAG.area, last_seen_t=last)

    samples = scene(30, drops_and_leaves)
    kept = [sample(s.index, s.t, s.detections, items=[seen(s.t)] if s.t >= 5.0 else []) for s in samples]
    hits = run(rule(), kept)
    assert len(hits) == 1 and hits[0].t_end == pytest.approx(15.0, abs=0.2)


def test_an_item_people_stood_over_most_of_the_time_is_not_reported() -> None:
    """Someone else's box lies over the bag from 5 s to 14 s; the owner left at 4 s. By 11 s (grace time over)
    they still stand at it; once they go at 14 s it has been covered 9 of its 11 s, and the event waits until
    the time it lay in the open is the larger share (21 s)."""

    def over_it(t: float) -> list:
        return [person(2, (0.54, 0.71))] if 5.0 <= t < 14.0 else []

    hits = run(rule(), scene(40, drops_and_leaves, extra=over_it))
    assert len(hits) == 1 and hits[0].t_end == pytest.approx(21.0, abs=0.3)
