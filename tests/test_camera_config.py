import textwrap

import pytest
import yaml

from models.config import load_camera_config
from models.config.camera import parse_camera_config
from models.errors import ConfigError
from tests.conftest import run_cli

MINIMAL = """
camera: {id: cam-01, site: main-st}
source: {uri: clip.mp4}
zones:
  - {name: road, kind: roadway, polygon: [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]}
"""


def write(tmp_path, text: str):
    path = tmp_path / "camera.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(data: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_camera_config(data)
    return info.value.problems


def minimal() -> dict:
    return yaml.safe_load(MINIMAL)


def test_camera_source_and_zones_are_enough_and_defaults_fill_the_rest(tmp_path):
    config = load_camera_config(write(tmp_path, MINIMAL))
    assert config.detector.model == "yolov8n.pt"
    assert config.detector.stride is None, "the detection rate follows detector.fps unless a stride is set"
    assert config.redaction.mode == "person"
    assert config.rules.jaywalking.enabled and config.rules.littering.enabled
    assert config.mqtt.prefix == "curbwatch/v1"


def test_check_config_reports_each_problem_on_its_own_line_and_exits_2(tmp_path):
    path = write(
        tmp_path,
        """
        camera: {id: cam-01, sitte: main-st}
        source: {uri: clip.mp4}
        detector: {stride: -1}
        zones:
          - {name: road, kind: roadway, polygon: [[0.1, 0.2], [0.5, 0.2]]}
          - {name: walk, kind: crosswalk, polygon: [[0.1, 0.2], [1.7, 0.2], [0.5, 0.9]]}
        """,
    )
    result = run_cli("check-config", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 5, lines
    text = "\n".join(lines)
    assert "camera.sitte: unknown key (did you mean 'site'?); allowed keys here: id, name, site" in text
    assert "camera.site: required key is missing" in text
    assert "zones[0].polygon: has 2 items, needs at least 3" in text
    assert "zones[1].polygon[1][0]: must be less than or equal to 1 (got 1.7)" in text
    assert "detector.stride: must be greater than or equal to 1 (got -1)" in text
    assert all(line.startswith(f"{path}: ") for line in lines)


def test_check_config_says_whether_stride_or_fps_sets_the_detection_rate(tmp_path):
    result = run_cli("check-config", str(write(tmp_path, MINIMAL)))
    assert "detector.fps 4: at least 4 detections a second" in result.stdout
    assert "30 fps: every 7th frame" in result.stdout
    strided = tmp_path / "strided.yaml"
    strided.write_text(MINIMAL + "detector: {stride: 3}\n")
    result = run_cli("check-config", str(strided))
    assert "detector.stride 3 is set and wins over detector.fps 4" in result.stdout, result.stdout[-600:]


def test_check_config_prints_the_effective_config(tmp_path):
    result = run_cli("check-config", str(write(tmp_path, MINIMAL)))
    assert result.returncode == 0, result.stderr
    effective = yaml.safe_load(result.stdout)
    assert effective["detector"]["imgsz"] == 640
    assert effective["zones"][0]["polygon"][0] == [0.0, 0.5]
    assert parse_camera_config(effective).camera.id == "cam-01"


def test_unknown_enum_value_lists_what_is_allowed():
    data = minimal()
    data["zones"][0]["kind"] = "road"
    data["redaction"] = {"mode": "blur"}
    found = problems(data)
    assert (
        "zones[0].kind: 'road' is not allowed; allowed: "
        "'roadway', 'crosswalk', 'sidewalk', 'litter_watch', 'ignore' or 'privacy'" in found
    )
    assert "redaction.mode: 'blur' is not allowed; allowed: 'person', 'head' or 'off'" in found


def test_self_intersecting_polygon_is_rejected():
    data = minimal()
    data["zones"][0]["polygon"] = [[0, 0], [1, 1], [1, 0], [0, 1]]
    assert problems(data) == [
        "zones[0].polygon: polygon is self-intersecting: edge 0 crosses edge 2 (got [[0, 0], [1, 1], [1, 0], [0, 1]])"
    ]


def test_degenerate_polygon_and_duplicate_zone_names_are_rejected():
    data = minimal()
    data["zones"].append({"name": "road", "kind": "sidewalk", "polygon": [[0, 0], [0.5, 0.5], [1, 1]]})
    found = problems(data)
    assert any("polygon has no area" in line for line in found)
    data["zones"][1]["polygon"] = [[0, 0], [0.5, 0], [0.5, 0.4]]
    assert any("zone name 'road' is used twice" in line for line in problems(data))


def test_bad_ids_sha_and_imgsz_are_named():
    data = minimal()
    data["camera"]["id"] = "cam/01"
    data["detector"] = {"sha256": "xyz", "imgsz": 650, "confidence": 1.5}
    found = "\n".join(problems(data))
    assert "camera.id: must match pattern" in found
    assert "detector.sha256" in found
    assert "detector.imgsz: must be a multiple of 32 (nearest: 640)" in found
    assert "detector.confidence: must be less than 1" in found


def test_unreadable_and_malformed_files_get_one_clear_line(tmp_path):
    result = run_cli("check-config", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{tmp_path / 'missing.yaml'}: cannot read the file: No such file or directory"
    broken = write(tmp_path, "camera: {id: [unclosed\n")
    result = run_cli("check-config", str(broken))
    assert result.returncode == 2 and "not valid YAML" in result.stderr and "Traceback" not in result.stderr
    listed = write(tmp_path, "- just\n- a list\n")
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_camera_config(listed)


def test_detection_rate_sets_the_stride_for_each_source_and_an_explicit_stride_wins():
    from models.config.detector import DetectorConfig

    five = DetectorConfig(fps=5.0)
    assert [five.stride_for(fps) for fps in (30.0, 29.97, 24.0, 11.03, 10.0, 4.0)] == [6, 6, 4, 2, 2, 1]
    assert [DetectorConfig().stride_for(fps) for fps in (30.0, 29.97, 25.0, 11.03, 10.0)] == [7, 7, 6, 2, 2]
    assert five.stride_for(0.0) == 1, "a live source that reports no frame rate is detected on every frame"
    assert DetectorConfig(fps=5.0, stride=3).stride_for(30.0) == 3
