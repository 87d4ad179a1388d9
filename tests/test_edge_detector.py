"""The detector on real frames: COCO names, normalised boxes, tracks, and stride."""

import itertools

import cv2
import pytest

from edge.detector import Detector, ModelError, sha256_of
from models.config.detector import DetectorConfig
from tests.conftest import shared_file


@pytest.fixture(scope="module")
def frames():
    capture = cv2.VideoCapture(str(shared_file("media", "jay_intersection_crosswalk.mp4")))
    return [capture.read()[1] for _ in range(6)]


def test_stride_runs_the_model_every_nth_frame_and_carries_tracks(model_path, frames):
    detector = Detector(DetectorConfig(model=str(model_path), stride=2, regions=False))
    out = [detector.process(frame, i / 11.0) for i, frame in enumerate(frames)]
    assert [ran for _, ran in out] == [True, False, True, False, True, False]
    assert out[1][0] == out[0][0] and out[3][0] == out[2][0]
    people = [d for d in out[4][0] if d.cls == "person"]
    tracked = [d for d in people if d.track_id is not None]
    assert len(tracked) >= 3, "pedestrians on the crosswalk and in the road, tracked since the first frame"
    assert all(0.0 <= v <= 1.0 for d in people for v in d.box)
    # The 640x352 frames ran through the model fitted to them, and the events name that model.
    assert detector.model_ref.name == f"{model_path.name}@640x352"
    assert detector.model_ref.sha256 != sha256_of(model_path) == detector.sha256


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="model file not found"):
        Detector(DetectorConfig(model=str(tmp_path / "missing.pt")))


def test_the_detector_rests_at_idle_fps_while_nothing_moves(model_path, frames):
    frames = frames * 4  # 24 frames of an 11 fps clip: about 2.2 s
    resting = Detector(DetectorConfig(model=str(model_path), stride=1, idle_fps=1.0))
    ran = [resting.process(frame, i / 11.0, moved=False)[1] for i, frame in enumerate(frames)]
    assert [i for i, r in enumerate(ran) if r] == [0, 11, 22]
    awake = Detector(DetectorConfig(model=str(model_path), stride=1, idle_fps=1.0))
    assert all(awake.process(frame, i / 11.0, moved=True)[1] for i, frame in enumerate(frames[:6]))
    ungated = Detector(DetectorConfig(model=str(model_path), stride=1, idle_fps=None))
    assert all(ungated.process(frame, i / 11.0, moved=False)[1] for i, frame in enumerate(frames[:6]))


def test_a_live_source_is_detected_by_time_so_dropped_frames_do_not_lower_the_rate(model_path, frames):
    live = Detector(DetectorConfig(model=str(model_path), fps=6.0, idle_fps=None))
    live.start(30.0, live=True)  # stride 5 on a 30 fps camera, whose reader drops every other frame
    times = [i * 2 / 30.0 for i in range(15)]
    ran = [t for t, frame in zip(times, frames * 3, strict=False) if live.process(frame, t)[1]]
    assert len(ran) >= 5, "about 6 a second over the 0.93 s, not one in five of the frames that arrived"
    assert all(b - a >= 1 / 6 - 1 / 60 for a, b in itertools.pairwise(ran))


def test_dark_frames_have_their_contrast_evened_out_before_detection(model_path):
    """The shared clips darkened to about 2 % of their light (a mean grey level near 20, like a street at night):
    with the contrast evened out the detector finds more of the people it finds in daylight."""
    from edge.bench_detect import sample_frames

    clips = [
        "ped_vtest_opencv_768x576.avi",
        "ped_zebra_london_streetlevel.mp4",
        "litter_aboda_video4_bag_left_outdoor.avi",
    ]
    frames = sample_frames([str(shared_file("media", clip)) for clip in clips], 4)
    dark = [(((f / 255.0) ** 2.2 * 0.02) ** (1 / 2.2) * 255).astype("uint8") for f in frames]
    assert max(float(d.mean()) for d in dark) < 30

    def people(detector: Detector, images: list) -> int:
        return sum(d.cls == "person" for image in images for d in detector.detect_only(image))

    evened, plain = (
        Detector(DetectorConfig(model=str(model_path))),
        Detector(DetectorConfig(model=str(model_path), low_light_below=None)),
    )
    assert people(evened, frames) == people(plain, frames), "daylight frames are left as they are"
    found, missed = people(evened, dark), people(plain, dark)
    print(f"people in daylight {people(plain, frames)}, in the dark {missed} plain, {found} evened out")
    assert found > missed


def test_regions_follow_a_walker_between_whole_looks_at_the_zones_window(model_path):
    """ABODA video4: a man walks in at about frame 300. With regions the detector looks at the window once a
    second and, between, only around him: his track keeps its id through both kinds of look, and before he comes,
    with nothing followed and nothing moving, the runs between whole looks are skipped."""
    from edge.boxes import box_area

    capture = cv2.VideoCapture(str(shared_file("media", "litter_aboda_video4_bag_left_outdoor.avi")))
    frames = [capture.read()[1] for _ in range(400)]
    height, width = frames[0].shape[:2]
    detector = Detector(DetectorConfig(model=str(model_path), fps=6.0, idle_fps=None))
    detector.start(29.97, frame_size=(width, height))
    window = detector.look_within((0.0, 0.0, 0.76, 1.0))
    looks = []
    for i, frame in enumerate(frames):
        detections, ran = detector.process(frame, i / 29.97, True, ())
        if ran:
            ids = {d.track_id for d in detections if d.cls == "person" and d.track_id is not None}
            looks.append((i, sum(box_area(part) for part in detector.looked) / box_area(window), ids))
    before = [i for i, _, _ in looks if i < 290]
    assert before == [0, 30, 60, 90, 120, 150, 180, 210, 240, 270], "a whole look a second while no one is there"
    with_him = [(share, ids) for i, share, ids in looks if i >= 320]
    assert any(share < 0.7 for share, _ in with_him), "between whole looks, only the part around him"
    assert any(share >= 1.0 for share, _ in with_him)
    assert {frozenset(ids) for _, ids in with_him} == {frozenset({1})}, "one man, one track, through both looks"
    assert detector.model_ref.name == f"{model_path.name}@regions" and detector.model_ref.sha256 == detector.sha256
