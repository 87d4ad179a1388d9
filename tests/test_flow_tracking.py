"""The flow tracker on drawn frames: textured blocks for people, detections only every few frames, as a 30 fps
camera at `detector.fps` 4-6 gives them. What a user notices: a walker keeps one id through the frames between
detections even when they turn, and a box that lands further than anyone walks in the time is someone else."""

from __future__ import annotations

import numpy as np

from edge.detect.yolo_io import RawDetections
from edge.flow_tracking import FlowTracker
from edge.tracking import ACTIVATION_SCORE, LOST_TRACK_S, MIN_IOU, Tracker, open_tracker

WIDTH, HEIGHT = 640, 360
FPS = 30.0
STRIDE = 5
PERSON = 0
BLOCK_W, BLOCK_H = 30, 80


def textures(count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [rng.integers(0, 255, (BLOCK_H, BLOCK_W, 3), dtype=np.uint8) for _ in range(count)]


def frame(positions: list[tuple[float, float]], looks: list[np.ndarray]) -> np.ndarray:
    image = np.full((HEIGHT, WIDTH, 3), 120, np.uint8)
    for (x, y), look in zip(positions, looks, strict=True):
        x0, y0 = round(x), round(y)
        image[y0 : y0 + BLOCK_H, x0 : x0 + BLOCK_W] = look
    return image


def detections(positions: list[tuple[float, float]]) -> RawDetections:
    boxes = np.array(
        [[x / WIDTH, y / HEIGHT, (x + BLOCK_W) / WIDTH, (y + BLOCK_H) / HEIGHT] for x, y in positions], np.float32
    )
    return RawDetections(boxes=boxes, classes=np.zeros(len(positions), int), scores=np.full(len(positions), 0.8))


def run(tracker: Tracker, paths: list[list[tuple[float, float]]]) -> list[list[int]]:
    """Feed every frame; detections on every STRIDE-th. The ids of each path's block at each detection."""
    looks = textures(len(paths))
    out = []
    for index in range(len(paths[0])):
        positions = [path[index] for path in paths]
        image, t = frame(positions, looks), index / FPS
        if index % STRIDE:
            tracker.between(image, t)
            continue
        out.append([int(i) for i in tracker.update(detections(positions), t, image)])
    return out


def walker_turns_back_beside_another() -> list[list[tuple[float, float]]]:
    """A walks right at 6 px a frame and turns back at frame 20, where B stands still just to the right of where A
    would be had A walked on: a guess from A's last two detections puts A on B."""
    a = [(200.0 + 6 * min(i, 20) - 6 * max(0, i - 20), 150.0) for i in range(60)]
    b = [(200.0 + 6 * 25 + 8, 150.0)] * 60
    return [a, b]


def test_a_walker_who_turns_back_keeps_their_id_and_the_bystander_theirs() -> None:
    ids = run(open_tracker("flow", FPS / STRIDE), walker_turns_back_beside_another())
    confirmed = ids[1]
    assert all(i > 0 for i in confirmed) and confirmed[0] != confirmed[1]
    assert all(row == confirmed for row in ids[1:]), f"ids changed between detections: {ids}"


def test_a_box_further_than_anyone_walks_in_the_time_is_a_new_track() -> None:
    tracker = FlowTracker(LOST_TRACK_S, ACTIVATION_SCORE, MIN_IOU)
    image = np.full((HEIGHT, WIDTH, 3), 120, np.uint8)
    for index in range(3):
        [track_id] = tracker.update(detections([(100.0 + 3 * index, 150.0)]), index / 6, image)
    # 0.17 s later the same-sized box, 400 px on: four body heights, where a runner gets under one.
    [jumped] = tracker.update(detections([(500.0, 150.0)]), 3 / 6, image)
    [again] = tracker.update(detections([(502.0, 150.0)]), 4 / 6, image)
    assert track_id > 0 and jumped == -1, "a new track, unconfirmed on its first box"
    assert again > 0 and again != track_id


def test_a_walker_hidden_for_a_moment_is_found_again_nearby_but_not_after_two_seconds() -> None:
    def hidden(detections_missed: int) -> tuple[int, int]:
        tracker = FlowTracker(LOST_TRACK_S, ACTIVATION_SCORE, MIN_IOU)
        image = np.full((HEIGHT, WIDTH, 3), 120, np.uint8)
        for index in range(3):
            [track_id] = tracker.update(detections([(100.0 + 10 * index, 150.0)]), index / 6, image)
        for index in range(3, 3 + detections_missed):  # behind a van: nothing detected
            assert len(tracker.update(detections([]), index / 6, image)) == 0
        # Back further on than a box last seen would overlap (walking on at 60 px/s, then a step aside).
        index = 3 + detections_missed
        [back] = tracker.update(detections([(120.0 + 10 * (index - 2) + 35, 150.0)]), index / 6, image)
        return track_id, back

    found, back = hidden(1)
    assert back == found, "a third of a second behind the van: the same walker"
    lost, other = hidden(12)
    assert other != lost, "2 s later someone else is as likely to be there"


def test_a_person_track_never_continues_on_a_vehicle_box() -> None:
    tracker = FlowTracker(LOST_TRACK_S, ACTIVATION_SCORE, MIN_IOU)
    image = np.full((HEIGHT, WIDTH, 3), 120, np.uint8)
    for index in range(2):
        [person] = tracker.update(detections([(100.0, 150.0)]), index / 6, image)
    car = detections([(101.0, 150.0)])
    car.classes[:] = 2
    [on_car] = tracker.update(car, 2 / 6, image)
    assert person > 0 and on_car != person


def test_only_the_classes_it_is_told_to_carry_are_moved_between_detections():
    """Cars at an intersection are predicted by their velocity alone: the flow's cost grows with the frame it spans."""
    looks = textures(1)
    moved = {}
    for carried in (frozenset({PERSON}), frozenset({2})):
        tracker = FlowTracker(LOST_TRACK_S, ACTIVATION_SCORE, MIN_IOU, carried)
        tracker.update(detections([(100.0, 150.0)]), 0.0, frame([(100.0, 150.0)], looks))
        for index in range(1, 4):
            tracker.between(frame([(100.0 + 6 * index, 150.0)], looks), index / FPS)
        [track] = tracker._tracks
        moved[carried] = float(track.box[0] * WIDTH - 100.0)
    assert moved[frozenset({PERSON})] > 10, "a person's box follows the flow"
    assert moved[frozenset({2})] == 0.0, "a class not carried stays until its next detection"
