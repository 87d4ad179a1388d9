"""Ground-plane calibration: four image points to metres, and its validation."""

from __future__ import annotations

import pytest

from edge.ground import GroundPlane
from models.config.calibration import CalibrationConfig
from models.config.camera import parse_camera_config
from models.errors import ConfigError

# A road seen in perspective: a 4 m x 20 m rectangle whose far edge looks narrower.
IMAGE = [(0.40, 0.30), (0.60, 0.30), (0.90, 0.90), (0.10, 0.90)]
GROUND = [(0.0, 20.0), (4.0, 20.0), (4.0, 0.0), (0.0, 0.0)]


def test_the_four_points_map_to_their_ground_positions_and_distances_are_metres() -> None:
    ground = GroundPlane(CalibrationConfig(image_points=IMAGE, ground_points=GROUND))
    assert ground.metric and ground.unit == "m"
    for image_point, ground_point in zip(IMAGE, GROUND, strict=True):
        assert ground.to_ground(image_point) == pytest.approx(ground_point, abs=1e-6)
    assert ground.distance(IMAGE[3], IMAGE[2]) == pytest.approx(4.0, abs=1e-6)  # near kerb to kerb
    assert ground.distance(IMAGE[0], IMAGE[1]) == pytest.approx(4.0, abs=1e-6)  # far: fewer pixels, same metres
    assert ground.distance(IMAGE[3], IMAGE[0]) == pytest.approx(20.0, abs=1e-6)


def test_without_calibration_distances_are_frame_widths() -> None:
    ground = GroundPlane(None).with_frame_size(640, 360)
    assert not ground.metric and ground.unit == "frame_widths"
    assert ground.distance((0.0, 0.0), (0.5, 0.0)) == pytest.approx(0.5)
    assert ground.distance((0.0, 0.0), (0.0, 1.0)) == pytest.approx(360 / 640)


def test_bad_calibrations_are_refused_with_a_clear_line() -> None:
    base = {
        "camera": {"id": "cam-1", "site": "s1"},
        "source": {"uri": "clip.mp4"},
        "zones": [{"name": "road", "kind": "roadway", "polygon": [[0, 0.4], [1, 0.4], [1, 0.6]]}],
    }
    ok = parse_camera_config({**base, "calibration": {"image_points": IMAGE, "ground_points": GROUND}})
    assert ok.calibration is not None
    collinear = [(0.1, 0.1), (0.2, 0.2), (0.3, 0.3), (0.1, 0.9)]
    with pytest.raises(ConfigError, match="on one line"):
        parse_camera_config({**base, "calibration": {"image_points": collinear, "ground_points": GROUND}})
    with pytest.raises(ConfigError, match=r"calibration\.ground_points: has 3 items"):
        parse_camera_config({**base, "calibration": {"image_points": IMAGE, "ground_points": GROUND[:3]}})
    with pytest.raises(ConfigError, match="image_points"):
        parse_camera_config({**base, "calibration": {"image_points": [(1.5, 0), *IMAGE[1:]], "ground_points": GROUND}})
