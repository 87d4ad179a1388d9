"""Shared set-up for the console tests: a migrated database with users, infractions with real evidence (JPEG
keyframes and a VP8 WebM clip cut from shared footage), and the console served by uvicorn on a free port."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from central.console.app import create_app
from central.console.auth import add_user
from central.console_settings import ConsoleConfig
from central.db import make_engine, session_factory, transaction
from central.evidence_store import EvidenceStore, FolderEvidenceStore
from central.migrate import upgrade
from central.settings import CentralSettings
from central.tables import CameraStatus, EvidenceBlob, EvidenceLink, Infraction
from models.infraction import InfractionMessage
from tests.conftest import shared_file

PASSWORDS = {
    "alice": "alice-password-1",
    "bob": "bob-password-22",
    "sam": "sam-password-333",
    "audrey": "audrey-password-4",
    "root": "root-password-55",
}
ROLES = {"alice": "reviewer", "bob": "reviewer", "sam": "supervisor", "audrey": "auditor", "root": "admin"}
FOOTAGE = "jay_intersection_crosswalk.mp4"
MODEL_SHA = "ab" * 32


@dataclass
class Evidence:
    clip: bytes
    keyframes: list[bytes]
    item_crop: bytes | None = None
    """A littering item's before/after picture (schema /2 role item_crop), listed first as the edge lists it."""


def wait_console(
    base: str, process: subprocess.Popen | None = None, why: Callable[[], str] = str, timeout: float = 60
) -> None:
    """Until the console at `base` answers its sign-in page; fails with `why()` when `process` (the server) ends
    first or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        alive = process is None or process.poll() is None
        assert alive and time.monotonic() < deadline, f"no console at {base}: {why()}"
        time.sleep(0.2)


def cut_evidence(frames: int = 24, width: int = 320) -> Evidence:
    """A short VP8 WebM clip and two JPEG keyframes from the shared crosswalk footage (downscaled)."""
    capture = cv2.VideoCapture(str(shared_file("media", FOOTAGE)))
    images = []
    while len(images) < frames:
        ok, frame = capture.read()
        if not ok:
            break
        height = int(frame.shape[0] * width / frame.shape[1]) // 2 * 2
        images.append(cv2.resize(frame, (width, height)))
    capture.release()
    assert images, f"could not read {FOOTAGE}"
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.webm"
        writer = cv2.VideoWriter(
            str(path), cv2.VideoWriter_fourcc(*"VP80"), 10.0, (images[0].shape[1], images[0].shape[0])
        )
        assert writer.isOpened(), "OpenCV cannot write VP8 WebM here"
        for image in images:
            writer.write(image)
        writer.release()
        clip = path.read_bytes()
    keyframes = [cv2.imencode(".jpg", images[i], [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes() for i in (0, -1)]
    return Evidence(clip, keyframes)


@dataclass
class Central:
    url: str
    factory: sessionmaker[Session]
    store: EvidenceStore
    settings: CentralSettings


def message(
    *,
    camera_id: str = "cam-north",
    site: str = "main-st",
    kind: str = "jaywalking",
    started_at: datetime | None = None,
    evidence: Evidence | None = None,
    redacted: bool = True,
    **extra: object,
) -> InfractionMessage:
    """`extra`: more message fields, e.g. the /2 zone_polygon, item_box and source."""
    start = started_at or datetime.now(UTC) - timedelta(minutes=30)
    refs = []
    if evidence is not None and evidence.item_crop is not None:
        refs.append(
            {"sha256": hashlib.sha256(evidence.item_crop).hexdigest(), "media_type": "image/jpeg", "role": "item_crop"}
        )
    if evidence is not None:
        refs.append({"sha256": hashlib.sha256(evidence.clip).hexdigest(), "media_type": "video/webm", "role": "clip"})
        refs += [
            {"sha256": hashlib.sha256(k).hexdigest(), "media_type": "image/jpeg", "role": "keyframe"}
            for k in evidence.keyframes
        ]
    jay = kind == "jaywalking"
    return InfractionMessage(
        event_id=uuid.uuid4(),
        type=kind,
        site=site,
        camera_id=camera_id,
        started_at=start,
        ended_at=start + timedelta(seconds=2.4),
        frame_start=0,
        frame_end=24,
        zone="roadway-main" if jay else "litter-corner",
        confidence=0.81,
        track={"id": 7, "trajectory": [{"t": i * 0.3, "x": 0.2 + 0.07 * i, "y": 0.35 + 0.03 * i} for i in range(9)]},
        rule={
            "name": "jaywalk.roadway_crossing" if jay else "litter.left_behind",
            "version": "1",
            "thresholds": {"min_duration_s": 1.0, "min_person_confidence": 0.35} if jay else {"min_static_s": 10.0},
            "measurements": {"duration_s": 1.8, "entered": "side"} if jay else {"static_s": 14.2},
        },
        signal_phase="dont_walk" if jay else None,
        model={"name": "yolov8n_int8.tflite", "sha256": MODEL_SHA},
        evidence=refs,
        redacted=redacted,
        **extra,
    )


def seed(central: Central, evidence: Evidence | None = None, **fields: object) -> str:
    """Store an infraction as the ingest side does: its row, its evidence links and the evidence bytes."""
    msg = message(evidence=evidence, **fields)  # type: ignore[arg-type]
    payload = msg.to_payload()
    with transaction(central.factory) as session:
        session.add(
            Infraction(
                event_id=str(msg.event_id),
                type=msg.type,
                site=msg.site,
                camera_id=msg.camera_id,
                started_at=msg.started_at,
                ended_at=msg.ended_at,
                zone=msg.zone,
                confidence=msg.confidence,
                redacted=msg.redacted,
                payload=payload,
                review_state="pending",
            )
        )
        blobs = [] if evidence is None else [evidence.clip, *evidence.keyframes]
        if evidence is not None and evidence.item_crop is not None:
            blobs.insert(0, evidence.item_crop)
        for ref, data in zip(payload["evidence"], blobs, strict=True):
            session.add(EvidenceLink(event_id=str(msg.event_id), **ref))
            central.store.put(ref["sha256"], data)
            if session.get(EvidenceBlob, ref["sha256"]) is None:
                session.add(EvidenceBlob(sha256=ref["sha256"], size=len(data), camera_id=msg.camera_id))
    return str(msg.event_id)


def add_status(
    central: Central,
    camera_id: str,
    state: str,
    seconds_ago: float,
    clock_offset_s: float | None = None,
    **heartbeat: object,
) -> None:
    """The latest status message of a camera, as the ingest side keeps it (with the box's clock offset)."""
    with transaction(central.factory) as session:
        session.add(
            CameraStatus(
                site="main-st",
                camera_id=camera_id,
                state=state,
                last_seen=datetime.now(UTC) - timedelta(seconds=seconds_ago),
                clock_offset_s=clock_offset_s,
                heartbeat={
                    "uptime_s": 3600.0,
                    "fps": 9.5,
                    "queue_depth": 0,
                    "model": "yolov8n_int8.tflite",
                    **heartbeat,
                },
            )
        )


def make_central(db_url: str, tmp_path: Path) -> Central:
    upgrade(db_url)
    factory = session_factory(make_engine(db_url))
    with transaction(factory) as session:
        for name, role in ROLES.items():
            # Five people, each account issued by someone else, so any two of them may give the two reviews.
            add_user(session, name, PASSWORDS[name], role, issued_by=f"issuer-of-{name}")
    return Central(db_url, factory, FolderEvidenceStore(tmp_path / "evidence"), CentralSettings(data_dir=tmp_path))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(
    central: Central, config: ConsoleConfig | None = None, extend: Callable[[FastAPI], None] | None = None
) -> Iterator[str]:
    """The console on 127.0.0.1:free port in a thread, as the CLI serves it (uvicorn's own proxy-header handling
    off: the console decides whom to believe); yields its base URL. `extend` may add test-only routes."""
    app = create_app(central.settings, central.factory, central.store, config)
    if extend is not None:
        extend(app)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def bearer(client: httpx.Client, name: str, password: str | None = None) -> dict[str, str]:
    """Sign `name` in through the API (its password from PASSWORDS unless given); the header its calls carry."""
    answer = client.post("/api/v1/session", json={"username": name, "password": password or PASSWORDS[name]})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


def page_session(client: httpx.Client, name: str) -> str:
    """Sign `client` in through the login form; returns the session's CSRF token for forms."""
    token = client.get("/login").cookies["cw_login_csrf"]
    client.post("/login", data={"username": name, "password": PASSWORDS[name], "csrf_token": token})
    return client.get("/account/password").text.split('name="csrf_token" value="')[1].split('"')[0]
