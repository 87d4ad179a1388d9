"""A littering event whose evidence was still being built when a reload changed the littering settings: its
item gets a status (issue 23 §6), as the items the reload let go do, instead of being followed by a follower
nothing updates any more."""

from __future__ import annotations

from datetime import UTC, datetime

from edge.detector import Detector
from edge.item_follow import ItemFollower
from edge.pipeline import Pipeline
from edge.rules.base import RuleHit
from edge.sink import MemorySink
from models.config.camera import load_camera_config
from tests.conftest import ROOT


def test_an_item_whose_follower_a_reload_replaced_is_reported_unknown(model_path):
    config = load_camera_config(ROOT / "examples" / "litter_aboda_video4_bag_left_outdoor.yaml")
    config = config.model_copy(update={"detector": config.detector.model_copy(update={"model": str(model_path)})})
    sink = MemorySink()
    pipeline = Pipeline(config, Detector(config.detector), origin=datetime(2026, 12, 7, tzinfo=UTC), sinks=[sink])
    hit = RuleHit(
        type="littering",
        track_id=3,
        zone=config.zones[0].name,
        frame_start=10,
        frame_end=40,
        t_start=0.3,
        t_end=1.3,
        confidence=0.8,
        trajectory=((0.0, 0.4, 0.8), (1.0, 0.45, 0.8)),
        thresholds={},
        measurements={},
        rule_version="1.0",
        item_box=(0.4, 0.7, 0.45, 0.75),
        item_id=5,
    )
    replaced = ItemFollower.from_config(config.rules.littering)
    # Queued before a reload replaced the follower, its evidence ready only now.
    pipeline._pending.append((hit, config.zones[0], None, replaced))
    [message] = pipeline._emit([], wait=True)
    [status] = sink.items
    assert status.event_id == message.event_id and status.state == "unknown"
    assert replaced.item_ids == frozenset(), "nothing left with a follower that no frame updates"

    current = RuleHit(**{**hit.__dict__, "item_id": 6})
    pipeline._pending.append((current, config.zones[0], None, pipeline.items))
    pipeline._emit([], wait=True)
    assert len(sink.items) == 1 and pipeline.items.item_ids == frozenset({6}), "the current follower keeps its item"
