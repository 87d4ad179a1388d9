"""The camera-box install, `pip install 'curbwatch[box]'`, as `.ci/setup` builds it in `.venv-box`: no torch and
no Ultralytics in it, under 1 GB on disk, one OpenCV, and `curbwatch edge replay` / `edge run` work in it and find
the same events as the full install.

Tests marked `box` run in that venv (README's test command: `.venv-box/bin/python -m pytest -m box
tests/test_box_install.py`); they drive the box's own interpreter in subprocesses, so they also pass when run from
the main venv. The comparison with the full install runs from the main venv, which has Ultralytics.
CURBWATCH_BOX_VENV names another box venv. Without one, CI (CI=true) fails; elsewhere the tests skip and say why."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import yaml

from tests.conftest import ROOT, shared_file

pytestmark = pytest.mark.timeout(600)

BOX_VENV = Path(os.environ.get("CURBWATCH_BOX_VENV", ROOT / ".venv-box"))
CLIP = "jay_intersection_crosswalk.mp4"
CONFIG = ROOT / "examples" / "jay_intersection_crosswalk.yaml"
MAX_BYTES = 1_000_000_000  # 1 GB on disk, decimal: the stricter reading


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require_box_venv() -> None:
    if (BOX_VENV / "bin" / "python").exists():
        return
    reason = (
        f"no box venv at {BOX_VENV}: `bash .ci/setup` builds it (python3 -m venv .venv-box && "
        ".venv-box/bin/pip install -e '.[box]' && .venv-box/bin/pip install pytest pytest-timeout)"
    )
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def box_python() -> Path:
    require_box_venv()
    return BOX_VENV / "bin" / "python"


def run_with(python: Path, *args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python ARGS` with this checkout first on the path (not whatever copy the venv installed)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "YOLO_OFFLINE": "1"}
    return subprocess.run([str(python), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def replay(python: Path, out: Path) -> list[dict]:
    """The README's replay command on the intersection clip, through `python`; its infraction messages."""
    clip = shared_file("media", CLIP)
    events = out / "events.jsonl"
    result = run_with(
        python,
        *("-m", "curbwatch", "edge", "replay", str(clip), "--config", str(CONFIG)),
        *("--events-out", str(events), "--evidence-dir", str(out / "evidence")),
    )
    assert result.returncode == 0, f"replay with {python} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return [json.loads(line) for line in events.read_text().splitlines() if line.strip()]


@pytest.mark.box
@pytest.mark.parametrize("module", ["torch", "ultralytics"])
def test_box_has_no_torch_and_no_ultralytics(box_python: Path, module: str) -> None:
    result = run_with(box_python, "-c", f"import {module}")
    assert result.returncode != 0, f"`import {module}` works in {BOX_VENV}: the box install must not have it"
    assert f"No module named '{module}'" in result.stderr, result.stderr


@pytest.mark.box
def test_box_has_one_opencv_and_numpy_2(box_python: Path) -> None:
    script = (
        "import importlib.metadata as m, json; "
        "print(json.dumps(sorted({d.metadata['Name'].lower(): d.version for d in m.distributions()}.items())))"
    )
    result = run_with(box_python, "-c", script)
    assert result.returncode == 0, result.stderr
    installed = dict(json.loads(result.stdout))
    opencv = sorted(name for name in installed if name.startswith("opencv"))
    assert len(opencv) == 1, f"{BOX_VENV} has {opencv}: two OpenCV wheels overwrite each other's cv2"
    assert int(installed["numpy"].split(".")[0]) >= 2, installed["numpy"]
    assert {"ai-edge-litert", "onnxruntime", "trackers"} <= installed.keys()


@pytest.mark.box
def test_box_venv_is_under_1_gb() -> None:
    """The whole venv on disk (`du`), byte code and pytest included."""
    require_box_venv()
    du = subprocess.run(["du", "-s", "-B1", str(BOX_VENV)], capture_output=True, text=True, check=True)
    size = int(du.stdout.split()[0])
    assert size < MAX_BYTES, f"{BOX_VENV} takes {size / 1e6:.0f} MB on disk, over 1 GB"


@pytest.mark.box
def test_box_replay_finds_the_crossing(box_python: Path, tmp_path: Path) -> None:
    events = replay(box_python, tmp_path)
    assert events, "the box replay of the intersection clip found no event"
    assert {event["type"] for event in events} == {"jaywalking"}
    assert all(event["evidence"] for event in events)


@pytest.mark.box
def test_box_edge_run_watches_a_source(box_python: Path, tmp_path: Path) -> None:
    """`curbwatch edge run` as a box starts it (without a broker: --no-publish), on the clip as its source."""
    config = yaml.safe_load(CONFIG.read_text())
    config["source"]["uri"] = str(shared_file("media", CLIP))
    config["detector"]["model"] = str(shared_file("models", Path(config["detector"]["model"]).name))
    camera = tmp_path / "camera.yaml"
    camera.write_text(yaml.safe_dump(config))
    events = tmp_path / "events.jsonl"
    result = run_with(
        box_python,
        *("-m", "curbwatch", "edge", "run", "--config", str(camera), "--no-publish", "--max-frames", "90"),
        *("--events-out", str(events)),
        cwd=tmp_path,
    )
    assert result.returncode == 0, f"edge run exited {result.returncode}:\n{result.stderr[-3000:]}"
    assert "90 frames" in result.stderr + result.stdout
    types = [json.loads(line)["type"] for line in events.read_text().splitlines()]
    assert types and set(types) == {"jaywalking"}, "the walkers crossing the avenue in the first 90 frames"


def test_box_and_full_install_find_the_same_events(box_python: Path, tmp_path: Path) -> None:
    """Same events from the box install as from this (full) one: count and type equal, frame ranges within 1 s."""
    if importlib.util.find_spec("ultralytics") is None:
        pytest.skip("compares against the full install: run it from .venv")
    box = replay(box_python, tmp_path / "box")
    full = replay(Path(sys.executable), tmp_path / "full")
    capture = cv2.VideoCapture(str(shared_file("media", CLIP)))
    fps = capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    assert fps > 0

    def summary(events: list[dict]) -> list[tuple[str, int, int]]:
        return sorted((event["type"], event["frame_start"], event["frame_end"]) for event in events)

    assert full, "the full install found no event on the intersection clip"
    assert [kind for kind, *_ in summary(box)] == [kind for kind, *_ in summary(full)], (summary(box), summary(full))
    for (kind, box_start, box_end), (_, full_start, full_end) in zip(summary(box), summary(full), strict=True):
        assert abs(box_start - full_start) / fps <= 1.0, (kind, box_start, full_start)
        assert abs(box_end - full_end) / fps <= 1.0, (kind, box_end, full_end)
