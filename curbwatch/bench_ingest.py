"""`curbwatch bench ingest`: signed synthetic infractions through a private Mosquitto into SQLite and
PostgreSQL with one and two central workers; stored messages per second and queue-to-commit latency."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parent.parent


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a live process (Linux /proc), to judge the workers apart from the
    load other programs put on the machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextmanager
def scratch_database(kind: str, folder: Path, pg_admin_url: str) -> Iterator[str]:
    """A fresh database, removed afterwards."""
    from sqlalchemy import create_engine, text

    if kind == "sqlite":
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    name = f"cw_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def one_run(kind: str, workers: int, count: int, rate: float | None, pg_admin_url: str) -> dict:
    """One fresh broker, database and set of workers; heavy imports here keep `curbwatch --help` quick."""
    from sqlalchemy import func, select

    from central.db import make_engine, session_factory
    from central.migrate import upgrade
    from central.tables import Infraction
    from curbwatch.local_broker import LocalBroker
    from edge.loadgen import generate
    from models.config.camera import parse_camera_config
    from models.signing import generate_keypair

    with (
        tempfile.TemporaryDirectory(prefix="curbwatch-bench-") as tmp_name,
        LocalBroker(Path(tmp_name) / "b") as broker,
    ):
        tmp = Path(tmp_name)
        generate_keypair("bench1", tmp / "keys")
        receipt_key, central_key = generate_keypair("central", tmp / "central-keys")
        config = parse_camera_config(
            {
                "camera": {"id": "bench1", "site": "bench"},
                "source": {"uri": "synthetic"},
                "zones": [{"name": "road", "kind": "roadway", "polygon": [[0, 0], [1, 0], [1, 1]]}],
                "mqtt": {"url": broker.url, "heartbeat_s": 5.0},
                "signing": {"key": str(tmp / "keys" / "bench1.key"), "central_key": str(central_key)},
                "outbox": {"path": str(tmp / "outbox.db")},
            }
        )
        with scratch_database(kind, tmp, pg_admin_url) as db_url:
            upgrade(db_url)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "curbwatch",
                        "--log-level",
                        "WARNING",
                        "central",
                        "run",
                        "--db",
                        db_url,
                        "--broker",
                        broker.url,
                        "--keys",
                        str(tmp / "keys"),
                        "--client-id",
                        f"bench-{n}",
                        "--data-dir",
                        str(tmp / "data"),
                        "--receipt-key",
                        str(receipt_key),
                    ],
                    cwd=ROOT,
                    env=env,
                )
                for n in range(workers)
            ]
            engine = make_engine(db_url)
            factory = session_factory(engine)
            cpu_before = 0.0
            try:
                time.sleep(2.0)  # workers connected and subscribed
                cpu_before = sum(cpu_seconds(proc.pid) for proc in procs)
                started = time.time()
                queued, drained = generate(config, count, seed=int(started), rate=rate, drain_timeout=300)
                deadline = time.monotonic() + 120
                with factory() as session:
                    while session.execute(select(func.count()).select_from(Infraction)).scalar_one() < count:
                        if time.monotonic() > deadline:
                            break
                        time.sleep(0.05)
                    rows = session.execute(select(Infraction.event_id, Infraction.received_at)).all()
            finally:
                worker_cpu = sum(cpu_seconds(proc.pid) for proc in procs if proc.poll() is None) - cpu_before
                for proc in procs:
                    proc.send_signal(signal.SIGTERM)
                for proc in procs:
                    proc.wait(30)
                engine.dispose()
    latencies, stamps = [], []
    for event_id, received_at in rows:
        stamp = (received_at if received_at.tzinfo else received_at.replace(tzinfo=UTC)).timestamp()
        stamps.append(stamp)
        if event_id in queued:
            latencies.append(stamp - queued[event_id])
    stored = len(rows)
    # Throughput between the first and the last commit: what the ingest side sustains once messages flow.
    span = max(stamps) - min(stamps) if stamps else 0.0
    return {
        "db": kind,
        "workers": workers,
        "offered_rate": rate,
        "count": count,
        "stored": stored,
        "lost": count - len(set(queued) & {r[0] for r in rows}),
        "drained": drained,
        "stored_per_s": round((stored - 1) / span, 1) if span > 0 else 0.0,
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
        "worker_cpu_ms_per_msg": round(worker_cpu * 1000 / stored, 3) if stored else None,
    }


@click.command("ingest")
@click.option("--count", default=5000, show_default=True, type=click.IntRange(min=1), help="Messages per run.")
@click.option("--latency-rate", default=200.0, show_default=True, help="Offered rate (msg/s) of the latency runs.")
@click.option("--latency-count", default=2000, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--pg",
    "pg_admin_url",
    default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
    show_default=True,
    help="PostgreSQL URL allowed to create a scratch database; '' skips PostgreSQL.",
)
@click.option("--workers", "worker_counts", multiple=True, type=int, default=(1, 2), show_default=True)
@click.option("--json-out", type=click.Path(dir_okay=False), help="Also write the figures here as JSON.")
def bench_ingest(
    count: int,
    latency_rate: float,
    latency_count: int,
    pg_admin_url: str,
    worker_counts: tuple[int, ...],
    json_out: str | None,
) -> None:
    """Publish signed infractions through a private local Mosquitto and the real outbox/publisher into
    fresh databases: flat out (stored/s) and at --latency-rate (queue-to-commit p50/p99)."""
    for noisy in ("alembic", "edge"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    kinds = ["sqlite"] + (["postgresql"] if pg_admin_url else [])
    results = []
    click.echo(
        f"{'db':<11}{'workers':>8}{'offered/s':>11}{'stored':>8}{'lost':>6}{'stored/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'cpu ms/msg':>12}"
    )
    for kind in kinds:
        for workers in worker_counts:
            for n, rate in ((count, None), (latency_count, latency_rate)):
                result = one_run(kind, workers, n, rate, pg_admin_url)
                results.append(result)
                offered = "max" if rate is None else f"{rate:g}"
                click.echo(
                    f"{kind:<11}{workers:>8}{offered:>11}{result['stored']:>8}{result['lost']:>6}"
                    f"{result['stored_per_s']:>10}{result['p50_ms']!s:>9}{result['p99_ms']!s:>9}"
                    f"{result['worker_cpu_ms_per_msg']!s:>12}"
                )
    if json_out:
        Path(json_out).write_text(json.dumps(results, indent=2))
