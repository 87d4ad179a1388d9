"""`curbwatch bench capacity`: measure what the capacity model of docs/scale.md needs, then print its table.

- Evidence per event: the example cameras' clips replayed with `curbwatch edge replay` (real detector, real
  redaction and encoding); the keyframes and clip each event lists, summed.
- PostgreSQL bytes per event: those events, signed and verified as central does, stored through the ingest
  code into a scratch database and reviewed once each; the database's growth divided by their number.
- One worker's rate: `bench ingest`'s flat-out run, PostgreSQL, one worker (or its --json-out figures)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import click

from central.capacity import Assumptions, Measured, table
from common.cli_errors import fail
from curbwatch.bench_ingest import ROOT, one_run, scratch_database
from models.config import load_camera_config

log = logging.getLogger(__name__)
DEFAULT_CLIPS = ("examples/jay_intersection_crosswalk.yaml", "examples/litter_aboda_video4_bag_left_outdoor.yaml")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class ReplayedEvent:
    payload: dict
    evidence_bytes: int
    evidence_files: int


def replay_events(config_file: str, out: Path) -> list[ReplayedEvent]:
    """Replay a camera's clip as an operator would, and weigh each event's evidence files."""
    config = load_camera_config(config_file)
    name = Path(config_file).stem
    events, evidence = out / f"{name}.jsonl", out / f"{name}-evidence"
    command = [sys.executable, "-m", "curbwatch", "--log-level", "WARNING", "edge", "replay", config.source.uri]
    command += ["--config", config_file, "--events-out", str(events), "--evidence-dir", str(evidence)]
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True)
    if done.returncode != 0:
        fail(f"replaying {config_file} failed: {done.stderr.decode(errors='replace').strip()[-500:]}")
    sizes = {path.name.split(".")[0]: path.stat().st_size for path in evidence.glob("*") if path.is_file()}
    replayed = []
    for line in events.read_text().splitlines():
        payload = json.loads(line)
        refs = payload.get("evidence", [])
        replayed.append(ReplayedEvent(payload, sum(sizes.get(r["sha256"], 0) for r in refs), len(refs)))
    return replayed


def _store_and_review(db_url: str, templates: list[dict], count: int, keys: Path) -> tuple[int, int]:
    """Store `count` events built from `templates` the way the ingest worker does (signed, verified, written in
    batches), then claim and decide each; returns the database's growth in bytes after each step."""
    from sqlalchemy import text

    from central import decisions
    from central.db import make_engine, session_factory, transaction
    from central.evidence_store import FolderEvidenceStore
    from central.migrate import upgrade
    from central.review import service as review
    from central.review.roles import Actor
    from central.settings import CentralSettings
    from central.store import Quarantine, write_batch
    from central.verify import Accepted, Verifier
    from models.signing import generate_keypair, load_private_key, load_public_keys, sign
    from models.topics import evidence_topic, infraction_topic

    upgrade(db_url)
    engine = make_engine(db_url)
    factory = session_factory(engine)
    settings = CentralSettings(checkpoint_dir=keys / "checkpoints")
    reviewer = Actor("reviewer-1", "reviewer")

    def size() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())

    cameras = {t["camera_id"] for t in templates}
    for camera in cameras:
        generate_keypair(camera, keys)
    signers = {camera: load_private_key(keys / f"{camera}.key") for camera in cameras}
    verifier = Verifier(load_public_keys(keys), max_age=timedelta(days=3650))
    # Stand-in bytes for the evidence rows: the database holds digests and sizes, never the files.
    store = FolderEvidenceStore(keys / "evidence")
    before = size()
    event_ids = []
    try:
        for start in range(0, count, 200):
            checked: list[Accepted | Quarantine] = []
            for index in range(start, min(count, start + 200)):
                template = templates[index % len(templates)]
                blobs = [f"{index}/{n}".encode() for n in range(len(template["evidence"]))]
                refs = [
                    {**ref, "sha256": hashlib.sha256(blob).hexdigest()}
                    for ref, blob in zip(template["evidence"], blobs, strict=True)
                ]
                payload = {**template, "event_id": str(uuid.uuid4()), "evidence": refs}
                payload.pop("signature", None)
                signed = sign(payload, signers[payload["camera_id"]])
                site, camera = payload["site"], payload["camera_id"]
                for ref, blob in zip(refs, blobs, strict=True):
                    checked.append(verifier.check(evidence_topic(site, camera, ref["sha256"]), blob))
                checked.append(verifier.check(infraction_topic(site, camera), json.dumps(signed).encode()))
                event_ids.append(payload["event_id"])
            with transaction(factory) as session:
                write_batch(session, store, checked)
        stored = size() - before
        for start in range(0, len(event_ids), 200):
            with transaction(factory) as session:
                for n, event_id in enumerate(event_ids[start : start + 200]):
                    now = datetime.now(UTC)
                    review.claim(session, event_id, reviewer, now, settings)
                    decision: Literal["confirm", "reject"] = "reject" if n % 2 else "confirm"
                    reason = "not an infraction" if n % 2 else "clear evidence"
                    decisions.decide(session, event_id, reviewer, decision, reason, "", None, now, settings)
        return stored, size() - before
    finally:
        engine.dispose()


def machine() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} CPUs"
    return platform.processor() or platform.machine()


def _worker_rate(ingest_json: str | None, count: int, pg: str) -> float:
    if ingest_json:
        runs = json.loads(Path(ingest_json).read_text())
        flat = [r for r in runs if r["db"] == "postgresql" and r["workers"] == 1 and r["offered_rate"] is None]
        if not flat:
            fail(f"{ingest_json} holds no flat-out PostgreSQL run with one worker")
        return float(flat[0]["stored_per_s"])
    return float(one_run("postgresql", 1, count, None, pg)["stored_per_s"])


@click.command("capacity")
@click.option(
    "--clip",
    "clips",
    multiple=True,
    default=DEFAULT_CLIPS,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Camera YAML whose source clip is replayed to weigh real evidence; repeat for several.",
)
@click.option("--pg", default=DEFAULT_PG, show_default=True, help="PostgreSQL URL that may create a scratch database.")
@click.option("--pg-events", default=1000, show_default=True, type=click.IntRange(min=10), help="Events stored there.")
@click.option(
    "--ingest-count", default=3000, show_default=True, type=click.IntRange(min=100), help="Events of the ingest run."
)
@click.option(
    "--ingest-json",
    type=click.Path(dir_okay=False, exists=True),
    help="Take the worker's rate from `bench ingest --json-out FILE` instead of measuring it again.",
)
@click.option(
    "--cameras",
    multiple=True,
    type=click.IntRange(min=1),
    default=(100, 1000, 10000),
    show_default=True,
    help="Camera counts, one table row each; repeat.",
)
@click.option(
    "--events-per-camera-hour",
    default=Assumptions.events_per_camera_hour,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Mean events a camera sends per hour, over a whole day.",
)
@click.option(
    "--peak-factor",
    default=Assumptions.peak_factor,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Busiest hour's rate over the mean: workers are planned for the peak.",
)
@click.option(
    "--review-days",
    default=Assumptions.review_days,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Days from arrival to a decision; evidence is kept that long before retention counts.",
)
@click.option(
    "--put-ms",
    default=Assumptions.put_ms,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Milliseconds of one evidence upload to the object store, as seen from a worker's host.",
)
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(dir_okay=False),
    help="Central settings whose retention_rejected_days and appeal_window_days apply; default their defaults.",
)
@click.option("--json-out", type=click.Path(dir_okay=False), help="Also write inputs and assumptions here as JSON.")
def bench_capacity(
    clips: tuple[str, ...],
    pg: str,
    pg_events: int,
    ingest_count: int,
    ingest_json: str | None,
    cameras: tuple[int, ...],
    events_per_camera_hour: float,
    peak_factor: float,
    review_days: float,
    put_ms: float,
    settings_path: str | None,
    json_out: str | None,
) -> None:
    """Measure evidence bytes per event, PostgreSQL bytes per event and one worker's ingest rate, and print
    the capacity table of docs/scale.md for CAMERAS cameras."""
    from central.settings import load_settings

    for noisy in ("alembic", "edge", "central"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = load_settings(settings_path)
    with tempfile.TemporaryDirectory(prefix="curbwatch-capacity-") as tmp_name:
        tmp = Path(tmp_name)
        events = [event for clip in clips for event in replay_events(clip, tmp)]
        if not any(e.evidence_files for e in events):
            fail(f"no event with evidence came out of {', '.join(clips)}")
        with scratch_database("postgresql", tmp, pg) as db_url:
            stored, reviewed = _store_and_review(db_url, [e.payload for e in events], pg_events, tmp / "keys")
    rate = _worker_rate(ingest_json, ingest_count, pg)
    measured = Measured(
        evidence_bytes_per_event=sum(e.evidence_bytes for e in events) / len(events),
        evidence_files_per_event=sum(e.evidence_files for e in events) / len(events),
        pg_bytes_per_event=reviewed / pg_events,
        worker_messages_per_s=rate,
    )
    assumptions = Assumptions(
        events_per_camera_hour=events_per_camera_hour,
        peak_factor=peak_factor,
        review_days=review_days,
        put_ms=put_ms,
        retention_rejected_days=settings.retention_rejected_days,
        appeal_window_days=settings.appeal_window_days,
    )
    click.echo(f"measured {datetime.now(UTC):%Y-%m-%d} on {machine()}")
    for e in events:
        click.echo(f"  {e.payload['camera_id']} {e.payload['type']}: {e.evidence_files} files, {e.evidence_bytes:,} B")
    click.echo(
        f"evidence per event {measured.evidence_bytes_per_event:,.0f} B in {measured.evidence_files_per_event:.1f} "
        f"files ({len(events)} events); PostgreSQL per event {stored / pg_events:,.0f} B stored, "
        f"{measured.pg_bytes_per_event:,.0f} B once reviewed ({pg_events} events); one worker {rate:,.0f} msg/s"
    )
    click.echo(
        f"assumed {events_per_camera_hour:g} events per camera and hour, peak {peak_factor:g}x the mean, workers "
        f"planned at {Assumptions.worker_utilisation:.0%} of their rate and {put_ms:g} ms per evidence upload, "
        f"decisions within {review_days:g} days, "
        f"retention {settings.retention_rejected_days} days after rejection, appeal window "
        f"{settings.appeal_window_days} days"
    )
    click.echo(table(list(cameras), measured, assumptions))
    if json_out:
        Path(json_out).write_text(
            json.dumps({"measured": asdict(measured), "assumptions": asdict(assumptions), "machine": machine()})
        )
