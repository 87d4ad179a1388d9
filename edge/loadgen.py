"""Synthetic signed infractions through the real outbox and publisher: the driver of `bench ingest`
and of the transport tests (`python -m edge.loadgen --config CAMERA.yaml --count N`)."""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import click

from common.cli_errors import ReportsErrors, fail
from edge.outbox import Outbox
from edge.outbox_sink import outbox_for, receipts_for, signer_for
from edge.publisher import Publisher, Signer, encode
from models.config.camera import CameraConfig, load_camera_config
from models.infraction import EvidenceRef, InfractionMessage, ModelRef, RuleTrace, TrackInfo, TrajectoryPoint
from models.topics import evidence_topic, infraction_topic

log = logging.getLogger(__name__)
_NAMESPACE = uuid.UUID("6f1d3c52-0b7e-4a57-9d8e-2f1f2d6c7a10")


def synthetic_event_id(camera_id: str, seed: int, index: int) -> uuid.UUID:
    """Deterministic, so a restarted generator and its checker agree on which events exist."""
    return uuid.uuid5(_NAMESPACE, f"{camera_id}/{seed}/{index}")


def synthetic_evidence(camera_id: str, seed: int, index: int) -> bytes:
    return f"synthetic keyframe {camera_id}/{seed}/{index}\n".encode() * 8


def synthetic_message(
    site: str, camera_id: str, seed: int, index: int, evidence: list[EvidenceRef]
) -> InfractionMessage:
    started = datetime.now(UTC) - timedelta(seconds=5)
    return InfractionMessage(
        event_id=synthetic_event_id(camera_id, seed, index),
        type="jaywalking" if index % 2 == 0 else "littering",
        site=site,
        camera_id=camera_id,
        started_at=started,
        ended_at=started + timedelta(seconds=3),
        frame_start=index * 10,
        frame_end=index * 10 + 90,
        zone="road",
        confidence=0.8,
        track=TrackInfo(
            id=index, trajectory=[TrajectoryPoint(t=0.0, x=0.1, y=0.5), TrajectoryPoint(t=3.0, x=0.9, y=0.5)]
        ),
        rule=RuleTrace(name="jaywalking", version="1", thresholds={"min_s": 1.0}, measurements={"in_road_s": 3.0}),
        model=ModelRef(name="synthetic", sha256="0" * 64),
        evidence=evidence,
    )


def enqueue_synthetic(
    outbox: Outbox, sign: Signer, config: CameraConfig, seed: int, index: int, with_evidence: bool
) -> tuple[str, float]:
    """Queue event `index` (evidence first, as the real sink does); returns its event id and queue time."""
    site, camera, prefix = config.camera.site, config.camera.id, config.mqtt.prefix
    rows, refs = [], []
    if with_evidence:
        blob = synthetic_evidence(camera, seed, index)
        digest = hashlib.sha256(blob).hexdigest()
        refs.append(EvidenceRef(sha256=digest, media_type="image/jpeg", role="keyframe"))
        rows.append((evidence_topic(site, camera, digest, prefix), blob, False))
    message = synthetic_message(site, camera, seed, index, refs)
    rows.append((infraction_topic(site, camera, prefix), encode(sign(message.to_payload())), False))
    queued_at = time.time()
    outbox.enqueue(str(message.event_id), rows)
    return str(message.event_id), queued_at


def generate(
    config: CameraConfig,
    count: int,
    seed: int = 0,
    rate: float | None = None,
    with_evidence: bool = False,
    drain_timeout: float = 120.0,
    on_queued: Callable[[int], None] | None = None,
) -> tuple[dict[str, float], bool]:
    """Queue `count` events and publish until the outbox is empty; returns event id -> queue time, and
    whether everything was released (receipted, or acknowledged without a central key) within `drain_timeout`.

    Without a rate everything is queued before publishing starts; with one, events are queued at that
    pace while the publisher runs."""
    sign = signer_for(config)
    outbox = outbox_for(config)
    publisher = Publisher(
        outbox, config.mqtt, config.camera.site, config.camera.id, sign, receipts=receipts_for(config)
    )
    queued: dict[str, float] = {}
    try:
        if rate is None:
            for index in range(count):
                event_id, at = enqueue_synthetic(outbox, sign, config, seed, index, with_evidence)
                queued[event_id] = at
            if on_queued is not None:
                on_queued(count)
            publisher.start()
        else:
            publisher.start()
            start = time.monotonic()
            for index in range(count):
                pause = start + index / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                event_id, at = enqueue_synthetic(outbox, sign, config, seed, index, with_evidence)
                queued[event_id] = at
        drained = publisher.wait_drained(drain_timeout)
        if not drained:
            log.error(
                "outbox not drained after %.0f s: %d messages left (%s)",
                drain_timeout,
                outbox.depth(),
                publisher.last_error or "no error reported",
            )
    finally:
        publisher.stop()
        outbox.close()
    return queued, drained


@click.command(cls=ReportsErrors)
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False), help="Camera YAML.")
@click.option("--count", default=1000, show_default=True, type=click.IntRange(min=0), help="Events to queue; 0 drains.")
@click.option("--seed", default=0, show_default=True, help="Event ids derive from camera, seed and index.")
@click.option("--rate", type=click.FloatRange(min=0, min_open=True), help="Events per second; default all at once.")
@click.option("--evidence/--no-evidence", default=False, show_default=True, help="One keyframe per event.")
@click.option("--drain-timeout", default=120.0, show_default=True, help="Seconds to wait for the outbox to empty.")
def main(config_file: str, count: int, seed: int, rate: float | None, evidence: bool, drain_timeout: float) -> None:
    """Queue COUNT synthetic signed infractions in the camera's outbox and publish them."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    config = load_camera_config(config_file)
    queued, drained = generate(
        config, count, seed, rate, evidence, drain_timeout, lambda n: print(f"queued {n}", flush=True)
    )
    print(json.dumps({"queued": len(queued), "drained": drained}), flush=True)
    if not drained:
        fail("the outbox is not empty; what is left is sent on the next run")


if __name__ == "__main__":
    main()
