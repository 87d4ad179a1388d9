"""The shared square model run at the shape of each clip's frames (detector.fit_input): same people found,
a file anyone can rebuild with `curbwatch model fit`, and a clear fallback for models it cannot refit."""

import hashlib
import logging

import cv2
import pytest

from edge.bench_detect import Candidate, bench_detect, sample_frames
from edge.detect.fitted_input import fitted_size, refit
from edge.detector import Detector, ModelError
from models.config.detector import DetectorConfig
from tests.conftest import run_cli, shared_file

CLIPS = (
    "ped_zebra_london_streetlevel.mp4",
    "litter_aboda_video4_bag_left_outdoor.avi",
    "ped_vtest_opencv_768x576.avi",
    "jay_intersection_crosswalk.mp4",
    "litter_pavement_drop_walkaway.mp4",
)


@pytest.mark.parametrize(
    ("frame", "fitted"),
    [
        ((640, 360), (384, 640)),  # 16:9: 24 px of bars instead of 280
        ((720, 480), (448, 640)),
        ((768, 576), (480, 640)),
        ((640, 352), (352, 640)),  # already a multiple of 32: no bars at all
        ((480, 848), (640, 384)),  # portrait
        ((640, 640), (640, 640)),
    ],
)
def test_the_input_takes_the_frames_shape_in_multiples_of_32(frame, fitted):
    assert fitted_size(*frame, 640) == fitted


def test_the_fitted_model_finds_the_square_models_people_on_every_clip(model_path):
    frames = sample_frames([str(shared_file("media", clip)) for clip in CLIPS], 4)
    config = DetectorConfig(model=str(model_path), threads=2)
    square, fitted = bench_detect(
        [Candidate(str(model_path), "native"), Candidate(str(model_path), "fitted")], frames, config
    )
    assert square.people >= 40, "the clips show people"
    assert fitted.matched / square.people >= 0.95, f"{fitted.matched} of {square.people} person boxes"


def test_a_camera_names_the_fitted_model_and_model_fit_writes_that_very_file(model_path, tmp_path):
    clip = shared_file("media", "ped_zebra_london_streetlevel.mp4")
    detector = Detector(DetectorConfig(model=str(model_path), regions=False))
    ok, frame = cv2.VideoCapture(str(clip)).read()
    assert ok
    detector.start(30.0, frame_size=(frame.shape[1], frame.shape[0]))
    detector.process(frame, 0.0)
    assert detector.model_ref.name == f"{model_path.name}@640x384"

    written = tmp_path / "fitted.tflite"
    result = run_cli("model", "fit", "--model", str(model_path), "--frame", "640x360", "--output", str(written))
    assert result.returncode == 0, result.stderr
    digest = hashlib.sha256(written.read_bytes()).hexdigest()
    assert f"sha256 {digest}" in result.stdout
    assert digest == detector.model_ref.sha256, "the file is the model the camera ran"

    again = run_cli(
        "model", "fit", "--model", str(model_path), "--input", "640x384", "--output", str(tmp_path / "b.tflite")
    )
    assert again.returncode == 0 and (tmp_path / "b.tflite").read_bytes() == written.read_bytes()

    # The written file is an ordinary model: pinned in a config, it runs at its own input.
    pinned = Detector(DetectorConfig(model=str(written), sha256=digest, fit_input=False))
    assert pinned.process(frame, 0.0)[1]
    assert pinned.model_ref.sha256 == digest


def test_a_model_that_cannot_be_refitted_runs_at_its_own_input(model_path, tmp_path, caplog):
    already, _size = refit(model_path.read_bytes(), lambda side: (384, 640))
    odd = tmp_path / "already_fitted.tflite"
    odd.write_bytes(already)
    detector = Detector(DetectorConfig(model=str(odd)))
    with caplog.at_level(logging.WARNING):
        detector.start(30.0, frame_size=(640, 360))
    assert "runs at its own input size: not a square" in caplog.text
    assert detector.model_ref.name == odd.name

    with pytest.raises(ModelError, match="not a LiteRT model"):
        refit(b"not a model" * 10, lambda side: (384, 640))
    bad = run_cli("model", "fit", "--model", str(model_path), "--input", "650x360")
    assert bad.returncode != 0 and "multiple of 32" in bad.stderr
