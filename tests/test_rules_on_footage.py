"""The rules on real footage with the real detector, through `curbwatch edge replay` (detector stride 3 to keep
the run short; the rules measure time, not frames, so they behave the same)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from models.infraction import InfractionMessage
from tests.conftest import ROOT, run_cli, shared_file

pytestmark = pytest.mark.slow


def replay(tmp_path: Path, example: str, video: str, stride: int = 3, *extra: str) -> list[InfractionMessage]:
    config = yaml.safe_load((ROOT / "examples" / f"{example}.yaml").read_text())
    config["detector"]["stride"] = stride
    camera = tmp_path / "camera.yaml"
    camera.write_text(yaml.safe_dump(config))
    events = tmp_path / "events.jsonl"
    result = run_cli(
        "edge", "replay", str(shared_file("media", video)), "--config", str(camera), "--events-out", str(events),
        *extra, timeout=400,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return [InfractionMessage.model_validate(json.loads(line)) for line in events.read_text().splitlines()]


def test_a_bag_left_beside_the_utility_box_is_one_littering_event(tmp_path: Path, model_path: Path) -> None:
    """ABODA video4: the man sets the bag down (~f420), stands beside it, walks off to the left (~f610-f670)."""
    events = replay(tmp_path, "litter_aboda_video4_bag_left_outdoor", "litter_aboda_video4_bag_left_outdoor.avi")
    assert len(events) == 1
    event = events[0]
    assert event.type == "littering" and event.zone == "pavement"
    assert 350 <= event.frame_start <= 460, "the event starts when the bag was set down"
    assert 640 <= event.frame_end <= 800, "and fires once he has been gone for the grace time"
    measured = event.rule.measurements
    assert measured["owner_away_s"] >= event.rule.thresholds["grace_s"]
    assert measured["static_s"] >= event.rule.thresholds["min_static_s"]
    assert event.track.trajectory[-1].x < 0.35, "the owner's trace leads off to the left"


def test_people_walking_past_an_old_object_on_the_lawn_raise_nothing(tmp_path: Path, model_path: Path) -> None:
    """vtest: dozens of walkers, some standing and chatting; the yellow object was there from the first frame."""
    assert replay(tmp_path, "ped_vtest_opencv_768x576", "ped_vtest_opencv_768x576.avi") == []


def test_everyone_crossing_on_the_zebra_raises_nothing(tmp_path: Path, model_path: Path) -> None:
    """London zebra at street level: people cross on the zebra, walkers pass close to the camera."""
    assert replay(tmp_path, "ped_zebra_london_streetlevel", "ped_zebra_london_streetlevel.mp4") == []


def test_the_mid_block_walker_is_one_event_and_the_cyclists_beside_him_are_none(
    tmp_path: Path, model_path: Path
) -> None:
    """Intersection, every frame (the INT8 model sees the dark cyclist's bicycle in only two frames, f4-f5): the
    walker crossing mid-block from (0.46, 0.49) to the left pavement is the only event; the two cyclists riding
    up the far side of the avenue at the same time are not pedestrians."""
    events = replay(tmp_path, "jay_intersection_crosswalk", "jay_intersection_crosswalk.mp4", 1, "--max-frames", "100")
    assert [(e.type, e.zone) for e in events] == [("jaywalking", "avenue")]
    event = events[0]
    assert event.frame_start <= 5 and 55 <= event.frame_end <= 75
    start, end = event.track.trajectory[0], event.track.trajectory[-1]
    assert start.x > 0.4 and end.x < 0.2, "from mid-road to the left pavement"
    # A stray bicycle box on one frame of his walk is not a bicycle under him (the rule wants two looks).
    assert event.rule.measurements["rider_share"] < 0.05
