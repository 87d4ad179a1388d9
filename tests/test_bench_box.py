"""`curbwatch bench box`: several real cameras (shared clips, the shared model) at once, one process each.
Speed is not asserted: only that every camera gets a row of numbers and the box a summary."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edge.bench_box import CAMERA_COLUMNS, SUMMARY_COLUMNS, plan_cameras
from models.config.camera import load_camera_config
from tests.conftest import ROOT, run_cli, shared_file


def _config(tmp_path: Path, example: str, clip: str, model: Path) -> Path:
    """An example camera with absolute paths to the verified shared clip and model."""
    data = yaml.safe_load((ROOT / "examples" / example).read_text())
    data["source"]["uri"] = str(shared_file("media", clip))
    data["detector"]["model"] = str(model)
    path = tmp_path / example
    path.write_text(yaml.safe_dump(data))
    return path


def overall_cameras(out: str) -> list[dict[str, str]]:
    """The camera rows of every per-run table, in order (each run prints its cameras, then its summary)."""
    return [row for table in _tables(out) for row in table if "det/s" in row]


def _tables(out: str) -> list[list[dict[str, str]]]:
    """Each markdown table in the output, as a list of rows keyed by the header."""
    tables: list[list[dict[str, str]]] = []
    header: list[str] | None = None
    for line in out.splitlines():
        if not line.startswith("| "):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            tables.append([])
        elif set(cells) != {"---"}:
            tables[-1].append(dict(zip(header, cells, strict=True)))
    return tables


def test_two_cameras_side_by_side_each_get_a_row_and_the_box_a_summary(tmp_path, model_path):
    zebra = _config(tmp_path, "ped_zebra_london_streetlevel.yaml", "ped_zebra_london_streetlevel.mp4", model_path)
    crossing = _config(tmp_path, "jay_intersection_crosswalk.yaml", "jay_intersection_crosswalk.mp4", model_path)
    result = run_cli(
        "bench", "box", "--config", str(zebra), "--config", str(crossing), "--max-frames", "12", timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    cameras, summary = _tables(result.stdout)
    assert list(cameras[0]) == list(CAMERA_COLUMNS) and list(summary[0]) == list(SUMMARY_COLUMNS)
    assert [row["camera"] for row in cameras] == ["zebra-london-01", "intersection-01"]
    assert [row["clip"] for row in cameras] == ["ped_zebra_london_streetlevel.mp4", "jay_intersection_crosswalk.mp4"]
    for row in cameras:
        assert int(row["frames"]) == 12
        assert float(row["ratio"]) > 0 and float(row["CPU %"]) > 0 and float(row["RSS MB"]) > 50
        assert float(row["detect ms"]) > 0 and float(row["load s"]) > 0
        assert row["keeps up"] in ("yes", "NO")
    assert [row["det/s"] for row in cameras] == ["4.3", "5.5"]  # stride 7 at 30 fps, stride 2 at 11 fps
    (box,) = summary
    assert box["cameras"] == "2" and box["pace"] == "fast"
    assert float(box["cameras' CPU % of box"]) > 0 and float(box["min ratio"]) <= float(box["mean ratio"])


def test_scale_repeats_a_config_under_distinct_ids_with_the_overrides(tmp_path, model_path):
    crossing = _config(tmp_path, "jay_intersection_crosswalk.yaml", "jay_intersection_crosswalk.mp4", model_path)
    result = run_cli(
        "bench", "box", "--config", str(crossing), "--scale", "1,2", "--threads", "1", "--fps", "3",
        "--pace", "realtime", "--max-frames", "6", "--tracker", "bytetrack", "--tracker", "flow", timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    one_before, _, one, one_summary, two_before, _, two, two_summary, overall = _tables(result.stdout)
    assert [row["tracker"] for row in overall] == ["bytetrack", "flow", "bytetrack", "flow"], "each set, both trackers"
    assert [row["camera"] for row in one_before + two_before] == [
        "intersection-01",
        "intersection-01",
        "intersection-01-2",
    ]
    assert [row["camera"] for row in one] == ["intersection-01"]
    assert [row["camera"] for row in two] == ["intersection-01", "intersection-01-2"]
    assert {row["det/s"] for row in one + two} == {"3.7"}  # --fps 3 at 11.03 fps: stride 3
    assert all(float(row["lag s"]) >= 0 for row in one + two)
    assert [row["cameras"] for row in overall] == ["1", "1", "2", "2"]
    assert {row["threads"] for row in overall} == {"1"} and {row["pace"] for row in overall} == {"realtime"}
    assert one_summary[0]["cameras"] == "1" and two_summary[0]["cameras"] == "2"


def test_plans_copy_each_camera_with_its_own_id_outbox_and_absolute_paths(tmp_path, model_path):
    config_file = _config(tmp_path, "ped_vtest_opencv_768x576.yaml", "ped_vtest_opencv_768x576.avi", model_path)
    config = load_camera_config(config_file)
    plans = plan_cameras([(config_file, config)], 3, tmp_path / "box", threads=2)
    copies = [load_camera_config(plan.config_file) for plan in plans]
    assert [c.camera.id for c in copies] == ["campus-lawn-01", "campus-lawn-01-2", "campus-lawn-01-3"]
    assert len({c.outbox.path for c in copies}) == 3
    assert all(c.detector.threads == 2 and Path(c.source.uri).is_absolute() for c in copies)
    assert copies[0].zones == config.zones and copies[0].rules == config.rules


def test_bench_detect_compares_runtimes_on_real_frames_and_matches_people():
    """The native runtime against the Ultralytics path on the same weights: a row each, the baseline's ratio is
    1.00, and the same model finds every person the baseline finds."""
    result = run_cli(
        "bench", "detect", "--config", "examples/jay_intersection_crosswalk.yaml", "--frames", "3", timeout=300
    )
    assert result.returncode == 0, result.stderr[-1500:]
    lines = result.stdout.strip().splitlines()
    ultra = next(line for line in lines[1:] if "(tflite, ultralytics)" in line)
    native = next(line for line in lines if "(tflite, native)" in line)
    assert " 1.00 " in ultra
    assert "100.0% of" in native and float(native.split(")")[-1].split()[0]) > 0


def test_baseline_measures_each_set_without_regions_then_with_them_and_prints_the_ratio(tmp_path, model_path):
    litter = _config(
        tmp_path, "litter_aboda_video4_bag_left_outdoor.yaml", "litter_aboda_video4_bag_left_outdoor.avi", model_path
    )
    result = run_cli("bench", "box", "--config", str(litter), "--baseline", "--max-frames", "60", timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    *_, overall, compared = _tables(result.stdout)
    assert [row["regions"] for row in overall] == ["off", "on"], "today's defaults before regions, then with them"
    camera, box = compared
    assert camera["camera"] == "sidewalk-box-01" and box["camera"] == "box (1 cameras)"
    before, after = float(box["baseline cores at 1x"]), float(box["new cores at 1x"])
    assert before > 0 and after > 0
    assert float(box["baseline / new"].rstrip("x")) == pytest.approx(before / after, abs=0.02), "rounded figures"
    assert [row["det/s"] for row in overall_cameras(result.stdout)] == ["6.0", "4.3"], "fps 6 before, 4 now"
