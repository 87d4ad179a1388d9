"""Real parts for the transport tests: keys, camera configs, central worker processes, database reads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml
from sqlalchemy import func, select

from central.db import make_engine, session_factory
from central.tables import EvidenceBlob, EvidenceLink, Infraction, QuarantinedMessage
from models.signing import generate_keypair
from tests.conftest import ROOT, run_cli

SITE = "site1"


def make_receipt_key(tmp: Path) -> Path:
    """Central's receipt key pair in tmp/central-keys; returns the private key (the .pub is beside it)."""
    private, _public = generate_keypair("central", tmp / "central-keys")
    return private


def make_camera(
    tmp: Path,
    camera_id: str,
    broker_url: str,
    *,
    central_key: Path | None = None,
    outbox: dict | None = None,
    **mqtt: object,
) -> Path:
    """Key pair in tmp/keys, outbox in tmp, and the camera YAML; returns the YAML's path. `central_key` is
    central's receipt public key (receipts on), `outbox` more outbox settings."""
    keys = tmp / "keys"
    if not (keys / f"{camera_id}.key").exists():
        generate_keypair(camera_id, keys)
    config = {
        "camera": {"id": camera_id, "site": SITE},
        "source": {"uri": "unused.mp4"},
        "zones": [{"name": "road", "kind": "roadway", "polygon": [[0, 0], [1, 0], [1, 1]]}],
        "mqtt": {"url": broker_url, "heartbeat_s": 1.0, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0, **mqtt},
        "signing": {"key": str(keys / f"{camera_id}.key")} | ({"central_key": str(central_key)} if central_key else {}),
        "outbox": {"path": str(tmp / f"outbox-{camera_id}.db"), **(outbox or {})},
    }
    path = tmp / f"{camera_id}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def migrate(db_url: str) -> None:
    result = run_cli("central", "migrate", "--db", db_url)
    assert result.returncode == 0, result.stderr


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def start_worker(
    tmp: Path, db_url: str, broker_url: str, client_id: str = "central-1", *extra: str
) -> subprocess.Popen:
    log = open(tmp / f"{client_id}.log", "ab")  # noqa: SIM115 (the process owns it until it exits)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "curbwatch",
            "central",
            "run",
            "--db",
            db_url,
            "--broker",
            broker_url,
            "--keys",
            str(tmp / "keys"),
            "--client-id",
            client_id,
            "--data-dir",
            str(tmp / "central-data"),
            *extra,
        ],
        cwd=ROOT,
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_subscribed(tmp: Path, client_id: str = "central-1", timeout: float = 60.0) -> None:
    """Until the worker's log shows the broker's SUBACK: before that, nothing would be routed to it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "subscribed to" in (tmp / f"{client_id}.log").read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{client_id} did not subscribe within {timeout} s")


def start_loadgen(config: Path, count: int, *extra: str, log: Path | None = None) -> subprocess.Popen:
    """The generator with its output in pipes, or its log (stderr) in `log` to be read while it runs."""
    return subprocess.Popen(
        [sys.executable, "-m", "edge.loadgen", "--config", str(config), "--count", str(count), *extra],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if log is None else open(log, "ab"),
        text=True,
    )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    if process.poll() is None:
        process.send_signal(sig)
    return process.wait(timeout)


class Db:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.factory = session_factory(self.engine)

    def count(self) -> int:
        with self.factory() as session:
            return session.scalar(select(func.count()).select_from(Infraction))

    def linked_evidence(self) -> int:
        """Links whose bytes are stored too."""
        with self.factory() as session:
            return session.scalar(
                select(func.count())
                .select_from(EvidenceLink)
                .join(EvidenceBlob, EvidenceBlob.sha256 == EvidenceLink.sha256)
            )

    def event_ids(self) -> list[str]:
        with self.factory() as session:
            return list(session.scalars(select(Infraction.event_id)))

    def quarantined(self) -> list[tuple[str, str | None, str]]:
        with self.factory() as session:
            rows = session.execute(
                select(QuarantinedMessage.reason, QuarantinedMessage.camera_id, QuarantinedMessage.topic)
            )
            return [tuple(row) for row in rows]

    def wait_for(self, predicate, timeout: float = 60.0) -> bool:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.1)
        return predicate(self)

    def close(self) -> None:
        self.engine.dispose()
