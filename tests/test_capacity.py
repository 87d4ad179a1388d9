"""The capacity model of docs/scale.md: its arithmetic, and `curbwatch bench capacity` measuring its inputs
from a real replay and a real PostgreSQL database."""

import json
import re

import pytest

from central.capacity import Assumptions, Measured, row, table
from tests.conftest import run_cli

MEASURED = Measured(
    evidence_bytes_per_event=800_000, evidence_files_per_event=4, pg_bytes_per_event=10_000, worker_messages_per_s=1000
)


def test_the_model_scales_with_cameras_and_keeps_evidence_until_retention():
    small, large = (row(n, MEASURED, Assumptions()) for n in (100, 10_000))
    assert small.events_per_s == pytest.approx(100 * 4 / 3600)
    assert large.peak_messages_per_s == pytest.approx(10_000 * 4 / 3600 * 3 * 5)
    assert large.evidence_gb_per_day == pytest.approx(10_000 * 4 * 24 * 800_000 / 1e9)
    assert large.evidence_tb_kept == pytest.approx(large.evidence_gb_per_day * 32 / 1000)
    assert large.pg_gb_per_year == pytest.approx(10_000 * 4 * 24 * 365 * 10_000 / 1e9)
    # 33.3 events/s at the peak, each 5 ms of messages and 4 uploads of 30 ms, at half load: 8.3 -> 9.
    assert (small.workers, large.workers) == (2, 9)
    slow_store = row(10_000, MEASURED, Assumptions(put_ms=100))
    assert slow_store.workers == 27
    assert table([100], MEASURED, Assumptions()).splitlines()[2].startswith("| 100 | 0.11 |")


def test_bench_capacity_prints_the_table_from_measurements(tmp_path):
    ingest = tmp_path / "ingest.json"
    ingest.write_text(json.dumps([{"db": "postgresql", "workers": 1, "offered_rate": None, "stored_per_s": 900.0}]))
    out = tmp_path / "capacity.json"
    args = ["--clip", "examples/jay_intersection_crosswalk.yaml", "--pg-events", "20", "--ingest-json", str(ingest)]
    result = run_cli("bench", "capacity", *args, "--cameras", "100", "--json-out", str(out), timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    assert re.search(r"intersection-01 jaywalking: 4 files, [\d,]{6,} B", result.stdout), result.stdout
    assert re.search(r"^\| 100 \| 0\.11 \| ", result.stdout, re.MULTILINE), result.stdout
    figures = json.loads(out.read_text())["measured"]
    assert figures["evidence_files_per_event"] == 4 and figures["evidence_bytes_per_event"] > 100_000
    assert 1_000 < figures["pg_bytes_per_event"] < 1_000_000 and figures["worker_messages_per_s"] == 900.0
