"""Issue 28 §3: a property-based fuzz of the ingest, end to end. Hypothesis draws mutants of real signed messages
(built by the edge's own models and signed with the camera's key): byte flips, truncations, and correctly signed
messages carrying hostile values. Each goes through a real Mosquitto into a real `central run` (SQLite and
PostgreSQL), and then: stored + quarantined = sent, the worker is alive, no mutant that breaks a rule is stored,
every stored message passes today's checks (`central list --invalid`), and every console page and the
transparency report render for them.

About a minute in CI; `-m fuzz_long` runs it at length (FUZZ_LONG_EXAMPLES batches per database)."""

from __future__ import annotations

import copy
import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.console.auth import add_user
from central.db import make_engine, session_factory, transaction
from curbwatch.local_broker import LocalBroker
from edge.loadgen import synthetic_message
from edge.publisher import encode
from models.signing import load_private_key, sign
from models.topics import infraction_topic
from models.wire import utc_iso
from tests.conftest import run_cli
from tests.console_support import free_port
from tests.transport_kit import SITE, Db, make_camera, migrate, start_worker, stop, wait_subscribed

CAMERA = "cam1"
CI_EXAMPLES = 8
FUZZ_LONG_EXAMPLES = 40
SUPERVISOR, PASSWORD = "fuzz-sup", "fuzz-supervisor-pass-1"
PAGES = ("/queue", "/litter", "/cameras", "/accuracy", "/rules", "/ledger", "/appeals", "/audit")


@dataclass(frozen=True)
class Mutation:
    kind: str
    refused: bool
    """True when no version of this mutant may be stored; False where a drawn value may be a fair one."""
    apply: Callable[[dict[str, Any]], dict[str, Any] | bytes]
    """From the message as the edge builds it (unsigned) to a changed message (signed by the test) or raw bytes."""


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def change(message: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(message)
        target: Any = out
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return out

    return change


def _times(start: datetime, end: datetime) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda message: message | {"started_at": utc_iso(start), "ended_at": utc_iso(end)}


NUMBER_PATHS = st.sampled_from(
    [
        ("confidence",),
        ("frame_start",),
        ("track", "id"),
        ("track", "trajectory", 0, "x"),
        ("track", "trajectory", 1, "t"),
    ]
)
TIME_KEYS = st.sampled_from([("started_at",), ("ended_at",)])
FLOAT_PATHS = st.sampled_from(
    [
        ("confidence",),
        ("track", "trajectory", 1, "t"),
        ("rule", "measurements", "in_road_s"),
        ("rule", "thresholds", "min_s"),
    ]
)
OFF_FRAME = st.floats(1.0001, 1e6) | st.floats(-1e6, -0.0001)


def _signed_bytes(keys: Path) -> Callable[[dict[str, Any]], bytes]:
    key = load_private_key(keys / f"{CAMERA}.key")
    return lambda message: encode(sign(message, key))


KINDS = (
    "unchanged", "fair values", "byte flip", "truncation", "int for a time", "time without a zone", "1970 start",
    "stale", "from the future", "reversed times", "reversed frames", "negative frame", "bool for a number",
    "string for a number", "NaN or infinity", "huge number", "point off the frame", "ratio off [0, 1]",
    "int for a flag", "malformed event id",
)  # fmt: skip
"""The mutation classes: every batch holds each once, so each is tried as often as the others."""


@st.composite
def mutation(draw: st.DrawFn, kind: str, keys: Path) -> Mutation:
    now = datetime.now(UTC)
    signed = _signed_bytes(keys)
    if kind == "unchanged":
        return Mutation(kind, False, lambda message: message)
    if kind == "fair values":
        confidence = draw(st.floats(0, 1).map(lambda v: round(v, 4)))
        x = draw(st.floats(0, 1).map(lambda v: round(v, 4)))
        return Mutation(kind, False, lambda m: _set(("track", "trajectory", 0, "x"), x)(m) | {"confidence": confidence})
    if kind == "byte flip":
        spots = draw(
            st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=4)
        )

        def flip(message: dict[str, Any]) -> bytes:
            data = bytearray(signed(message))
            # one mask a byte: two equal flips of one byte would give the message back unchanged
            for index, mask in {int(where * len(data)): mask for where, mask in spots}.items():
                data[index] ^= mask
            return bytes(data)

        return Mutation(kind, True, flip)
    if kind == "truncation":
        keep = draw(st.floats(0, 1, exclude_max=True))
        return Mutation(kind, True, lambda message: (data := signed(message))[: int(keep * len(data))])
    if kind == "int for a time":
        return Mutation(kind, True, _set(draw(TIME_KEYS), draw(st.integers(-(2**40), 2**40))))
    if kind == "time without a zone":
        return Mutation(kind, True, _set(draw(TIME_KEYS), now.replace(tzinfo=None).isoformat(timespec="seconds")))
    if kind == "1970 start":
        return Mutation(kind, True, _times(datetime(1970, 1, 1, tzinfo=UTC), now))
    if kind == "stale":
        start = now - timedelta(days=draw(st.integers(31, 20_000)))
        return Mutation(kind, True, _times(start, start + timedelta(seconds=3)))
    if kind == "from the future":
        start = now + timedelta(minutes=draw(st.integers(11, 10_000_000)))
        return Mutation(kind, True, _times(start, start + timedelta(seconds=3)))
    if kind == "reversed times":
        gap = timedelta(seconds=draw(st.integers(1, 10**6)))
        return Mutation(kind, True, _times(now - timedelta(seconds=5), now - timedelta(seconds=5) - gap))
    if kind == "reversed frames":
        start = draw(st.integers(1, 2**40))
        return Mutation(kind, True, lambda m: m | {"frame_start": start, "frame_end": start - 1})
    if kind == "negative frame":
        return Mutation(kind, True, _set(("frame_start",), draw(st.integers(-(2**40), -1))))
    if kind == "bool for a number":
        return Mutation(kind, True, _set(draw(NUMBER_PATHS), draw(st.booleans())))
    if kind == "string for a number":
        return Mutation(kind, True, _set(draw(NUMBER_PATHS), str(draw(st.floats(0, 1)))))
    if kind == "NaN or infinity":
        return Mutation(
            kind, True, _set(draw(FLOAT_PATHS), draw(st.sampled_from([float("nan"), float("inf"), -1e400])))
        )
    if kind == "huge number":
        path, value = draw(
            st.sampled_from([("frame_end",), ("track", "id")]).map(lambda p: (p, 2**53 + 1))
            | st.tuples(FLOAT_PATHS, st.floats(1e15, 1e300))
        )
        return Mutation(kind, True, _set(path, value))
    if kind == "point off the frame":
        axis = draw(st.sampled_from(["x", "y"]))
        return Mutation(kind, True, _set(("track", "trajectory", draw(st.integers(0, 1)), axis), draw(OFF_FRAME)))
    if kind == "ratio off [0, 1]":
        path = draw(st.sampled_from([("confidence",), ("rule", "measurements", "rider_share")]))
        return Mutation(kind, True, _set(path, draw(OFF_FRAME)))
    if kind == "int for a flag":
        return Mutation(kind, True, _set(("redacted",), draw(st.integers(0, 1))))
    spelling = draw(st.sampled_from([str.upper, lambda text: "{" + text + "}", lambda text: text.replace("-", "")]))
    return Mutation(kind, True, lambda message: message | {"event_id": spelling(message["event_id"])})


@dataclass
class Tally:
    sent: Counter[str]
    refused: dict[str, str]
    """Event id -> mutation class, for the mutants no version of which may be stored."""


def _start(tmp: Path, db_url: str, broker: LocalBroker, port: int) -> Any:
    make_camera(tmp, CAMERA, broker.url)
    engine = make_engine(db_url)
    with transaction(session_factory(engine)) as session:
        add_user(session, SUPERVISOR, PASSWORD, "supervisor", issued_by="fuzz-test")
    engine.dispose()
    return start_worker(tmp, db_url, broker.url, "central-1", "--http", f"127.0.0.1:{port}")


def _render_everything(base: str, stored: list[str]) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        token = client.get("/login").cookies["cw_login_csrf"]
        client.post("/login", data={"username": SUPERVISOR, "password": PASSWORD, "csrf_token": token})
        paths = [*PAGES, *(f"/items/{event_id}" for event_id in stored)]
        paths += [f"/reports?site={SITE}", f"/reports/download?site={SITE}&format=json"]
        paths += [f"/reports/download?site={SITE}&format=csv"]
        for path in paths:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])


def fuzz_ingest(tmp: Path, db_url: str, examples: int) -> Counter[str]:
    migrate(db_url)
    port = free_port()
    tally = Tally(Counter(), {})
    with LocalBroker(tmp / "broker") as broker:
        worker = _start(tmp, db_url, broker, port)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fuzzer", protocol=mqtt.MQTTv5)
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        db = Db(db_url)
        try:
            wait_subscribed(tmp)

            @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(batch=st.tuples(*(mutation(kind, tmp / "keys") for kind in KINDS)))
            def publish(batch: tuple[Mutation, ...]) -> None:
                before = db.count() + len(db.quarantined())
                for index, mutation in enumerate(batch):
                    seed = synthetic_message(SITE, CAMERA, 28, index, [])
                    seed.event_id = uuid.uuid4()  # each mutant its own event: no duplicate is absorbed unseen
                    mutated = mutation.apply(seed.to_payload())
                    payload = mutated if isinstance(mutated, bytes) else _signed_bytes(tmp / "keys")(mutated)
                    client.publish(infraction_topic(SITE, CAMERA), payload, qos=1).wait_for_publish(30)
                    tally.sent[mutation.kind] += 1
                    if mutation.refused:
                        tally.refused[str(seed.event_id)] = mutation.kind
                accounted = db.wait_for(lambda d: d.count() + len(d.quarantined()) == before + len(batch), 60)
                assert accounted, f"sent {len(batch)}, accounted for {db.count() + len(db.quarantined()) - before}"
                assert worker.poll() is None, "the worker died"

            publish()
            stored = db.event_ids()
            assert db.count() + len(db.quarantined()) == sum(tally.sent.values())
            wrongly = Counter(tally.refused[event_id] for event_id in stored if event_id in tally.refused)
            assert not wrongly, f"stored although they break a rule, by mutation class: {dict(wrongly)}"
            invalid = run_cli("central", "list", "--db", db_url, "--invalid")
            assert invalid.returncode == 0 and invalid.stdout == "", invalid.stdout[:2000]
            _render_everything(f"http://127.0.0.1:{port}", stored)
            assert worker.poll() is None, "the worker died"
        finally:
            client.disconnect()
            client.loop_stop()
            db.close()
            assert stop(worker) == 0
    summary = Counter({f"{kind} sent": n for kind, n in tally.sent.items()})
    summary["stored"], summary["quarantined"] = len(stored), sum(tally.sent.values()) - len(stored)
    print(json.dumps({"database": db_url.split(":")[0], **summary}, sort_keys=True))
    return summary


def test_fuzzed_signed_messages_through_broker_and_worker(db_url: str, tmp_path: Path) -> None:
    fuzz_ingest(tmp_path, db_url, CI_EXAMPLES)


@pytest.mark.fuzz_long
def test_fuzzed_signed_messages_at_length(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    if "fuzz_long" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("the long fuzz runs only when asked for: -m fuzz_long")
    fuzz_ingest(tmp_path, db_url, FUZZ_LONG_EXAMPLES)
