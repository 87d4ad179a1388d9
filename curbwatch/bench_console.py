"""`curbwatch bench console`: the reviewer console under load, as an outside tester would drive it.

A scratch database (PostgreSQL by default) is seeded with signed infractions, verified and stored by the ingest
code with one keyframe each; one or more `curbwatch central serve` processes serve it; N reviewers work the queue
(take the next item with a claim, read it and its keyframe, decide or give the second review) and M readers
read (queue and item pages, the item through the API, its keyframe, the ledger) for a fixed time. Prints each
route's p50/p95/p99, requests per second, refusals (409: another reviewer was first) and errors, the CPU the
servers used, then checks the database: no item decided twice, every second review after another reviewer's
referral, states matching the moves, ledger deductions equal to the confirmations that named a subject, both
hash chains intact and timed in chain order. Exits 1 when an invariant fails."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from curbwatch.bench_ingest import ROOT, cpu_seconds, percentile, scratch_database

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SITE = "bench"
CAMERAS = ("bench-cam-1", "bench-cam-2")
OPEN = ("pending", "in_review", "awaiting_second", "second_review")


@dataclass
class Sample:
    route: str
    status: int
    seconds: float


@dataclass
class Load:
    """Everything the clients measured."""

    samples: list[Sample] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """Requests that got no answer (transport errors, time-outs), by route."""
    examples: dict[str, str] = field(default_factory=dict)
    """The first error of each route, as answered (status and the start of the body), to say what went wrong."""
    decisions: int = 0


def machine() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} CPUs"
    return f"{os.cpu_count()} CPUs"


def busy_cpu_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all processes, all CPUs)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# Seeding ----------------------------------------------------------------------------------------------------


def seed(db_url: str, data: Path, events: int, evidence_kb: int, users: dict[str, str], password: str) -> list[str]:
    """Migrate, add the accounts (each issued by someone else, so any two may give the two reviews) and store
    `events` signed infractions the way the ingest worker does (signed, verified, written in batches), each
    with a keyframe of `evidence_kb` KB. Returns the event ids."""
    from central.console.auth import add_user
    from central.db import make_engine, session_factory, transaction
    from central.evidence_store import FolderEvidenceStore
    from central.migrate import upgrade
    from central.store import Quarantine, write_batch
    from central.verify import Accepted, Verifier
    from edge.loadgen import synthetic_message
    from models.infraction import EvidenceRef
    from models.signing import generate_keypair, load_private_key, load_public_keys, sign
    from models.topics import evidence_topic, infraction_topic

    upgrade(db_url)
    engine = make_engine(db_url)
    factory = session_factory(engine)
    keys = data / "camera-keys"
    for camera in CAMERAS:
        generate_keypair(camera, keys)
    signers = {camera: load_private_key(keys / f"{camera}.key") for camera in CAMERAS}
    verifier = Verifier(load_public_keys(keys), max_age=timedelta(days=3650))
    store = FolderEvidenceStore(data / "evidence")
    run_seed = int(time.time())
    ids = []
    try:
        with transaction(factory) as session:
            for name, role in users.items():
                add_user(session, name, password, role, issued_by=f"issuer-of-{name}")
        for start in range(0, events, 200):
            checked: list[Accepted | Quarantine] = []
            for index in range(start, min(events, start + 200)):
                camera = CAMERAS[index % len(CAMERAS)]
                blob = os.urandom(evidence_kb * 1024)
                digest = hashlib.sha256(blob).hexdigest()
                ref = EvidenceRef(sha256=digest, media_type="image/jpeg", role="keyframe")
                message = synthetic_message(SITE, camera, run_seed, index, [ref])
                signed = sign(message.to_payload(), signers[camera])
                checked.append(verifier.check(evidence_topic(SITE, camera, digest), blob))
                checked.append(verifier.check(infraction_topic(SITE, camera), json.dumps(signed).encode()))
                ids.append(str(message.event_id))
            with transaction(factory) as session:
                write_batch(session, store, checked)
    finally:
        engine.dispose()
    return ids


# Serving ----------------------------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(db_url: str, data: Path, count: int, logs: Path) -> list[tuple[subprocess.Popen, str]]:
    """`count` `central serve` processes on free ports of 127.0.0.1, each its own Python process, as an operator
    runs them behind a load balancer; returns each with its base URL once it answers."""
    import httpx

    servers = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for n in range(count):
        port = _free_port()
        log = (logs / f"serve-{n}.log").open("w")
        command = [sys.executable, "-m", "curbwatch", "--log-level", "WARNING", "central", "serve", "--db", db_url]
        command += ["--http", f"127.0.0.1:{port}", "--data-dir", str(data)]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        servers.append((process, f"http://127.0.0.1:{port}"))
    deadline = time.monotonic() + 60
    for process, base in servers:
        while True:
            if process.poll() is not None:
                raise click.ClickException(f"central serve exited with {process.returncode}; see {logs}")
            try:
                if httpx.get(f"{base}/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise click.ClickException(f"central serve at {base} did not answer within 60 s; see {logs}")
            time.sleep(0.2)
    return servers


# Load -------------------------------------------------------------------------------------------------------


class Client:
    """One signed-in user: times every request under a route name."""

    def __init__(self, http: Any, token: str, load: Load) -> None:
        self.http, self.load = http, load
        self.headers = {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, route: str, url: str, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, headers=self.headers, **kwargs)
        except Exception as exc:  # a refused or timed-out connection is an error of the run, not of the bench
            self.load.failures[route] += 1
            self.load.examples.setdefault(route, f"no answer: {type(exc).__name__}: {exc}"[:200])
            return None
        self.load.samples.append(Sample(route, response.status_code, time.perf_counter() - started))
        if response.status_code >= 400 and response.status_code != 409:
            self.load.examples.setdefault(route, f"{response.status_code} {response.text[:160]}")
        return response


async def sign_in(http: Any, name: str, password: str) -> str:
    answer = await http.post("/api/v1/session", json={"username": name, "password": password})
    if answer.status_code != 200:
        raise click.ClickException(f"{name} could not sign in: {answer.status_code} {answer.text[:200]}")
    return str(answer.json()["token"])


async def reviewer(client: Client, rng: random.Random, deadline: float) -> None:
    """Take the next item (a claim on the version the queue showed; on to the next one when someone was first),
    read it and its keyframe, then decide it, or give its second review."""
    while time.monotonic() < deadline:
        queue = await client.call("GET", "GET /api/v1/queue", "/api/v1/queue", params={"limit": 5})
        if queue is None or queue.status_code != 200 or not queue.json():
            await asyncio.sleep(0.2)
            continue
        taken = None
        for item in queue.json():
            claimed = await client.call(
                "POST",
                "POST claim",
                f"/api/v1/infractions/{item['event_id']}/claim",
                json={"version": item["version"]},
            )
            if claimed is not None and claimed.status_code == 200:
                taken = item, claimed.json()["version"]
                break
        if taken is None:
            continue
        item, version = taken
        event_id = item["event_id"]
        detail = await client.call("GET", "GET /api/v1/infractions/{id}", f"/api/v1/infractions/{event_id}")
        if detail is None or detail.status_code != 200:
            continue
        body = detail.json()
        for evidence in body["evidence"][:1]:
            await client.call("GET", "GET evidence", evidence["url"])
        second = body["review_state"] in ("awaiting_second", "second_review")
        if second:
            step, route = "second-review", "POST second-review"
            decision = {"decision": "confirm", "reason": "clear evidence"}
            if rng.random() < 0.2:
                decision = {"decision": "reject", "reason": "evidence unclear"}
        else:
            step, route = "decision", "POST decision"
            roll = rng.random()
            if roll < 0.5:
                decision = {
                    "decision": "confirm",
                    "reason": "clear evidence",
                    "subject_ref": f"subj-{rng.randrange(300):03d}",
                }
            elif roll < 0.7:
                decision = {"decision": "confirm", "reason": "clear evidence"}
            else:
                decision = {"decision": "reject", "reason": "not an infraction"}
        done = await client.call(
            "POST", route, f"/api/v1/infractions/{event_id}/{step}", json={**decision, "version": version}
        )
        if done is not None and done.status_code == 200:
            client.load.decisions += 1


async def reader(client: Client, rng: random.Random, deadline: float, events: list[str]) -> None:
    """What a supervisor or an auditor reads: the queue page, an item's page, the item through the API and its
    keyframe, and now and then the ledger."""
    rounds = 0
    while time.monotonic() < deadline:
        event_id = rng.choice(events)
        await client.call("GET", "GET /queue", "/queue")
        await client.call("GET", "GET /items/{id}", f"/items/{event_id}")
        detail = await client.call("GET", "GET /api/v1/infractions/{id}", f"/api/v1/infractions/{event_id}")
        if detail is not None and detail.status_code == 200:
            for evidence in detail.json()["evidence"][:1]:
                await client.call("GET", "GET evidence", evidence["url"])
        if rounds % 4 == 0:
            await client.call("GET", "GET /api/v1/ledger", "/api/v1/ledger")
        rounds += 1


async def drive(
    bases: list[str],
    reviewers: int,
    readers: int,
    seconds: float,
    events: list[str],
    password: str,
    mark: Callable[[str], None] = lambda _when: None,
) -> tuple[Load, float]:
    """Sign everyone in, then run them all for `seconds`; returns what they measured and the time it took.
    `mark("start")` and `mark("end")` are called around the run itself (after the sign-ins, whose password
    hashing is no part of the load)."""
    import httpx

    load = Load()
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    names = [f"reviewer-{n}" for n in range(reviewers)] + [f"reader-{n}" for n in range(readers)]
    https = [httpx.AsyncClient(base_url=bases[n % len(bases)], timeout=60, limits=limits) for n in range(len(names))]
    try:
        tokens = [await sign_in(http, name, password) for http, name in zip(https, names, strict=True)]
        clients = [Client(http, token, load) for http, token in zip(https, tokens, strict=True)]
        mark("start")
        started = time.monotonic()
        deadline = started + seconds
        tasks = [reviewer(clients[n], random.Random(n), deadline) for n in range(reviewers)]
        tasks += [reader(clients[reviewers + n], random.Random(1000 + n), deadline, events) for n in range(readers)]
        await asyncio.gather(*tasks)
        took = time.monotonic() - started
        mark("end")
        return load, took
    finally:
        for http in https:
            await http.aclose()


# Invariants -------------------------------------------------------------------------------------------------


def invariants(db_url: str) -> list[tuple[str, str | None]]:
    """(what, None when it holds, else what is wrong) for each invariant of the review and the ledger."""
    from sqlalchemy import select

    from central import audit
    from central.db import make_engine, session_factory, transaction
    from central.ledger import service as ledger
    from central.review.tables import ReviewAction
    from central.tables import Infraction

    engine = make_engine(db_url)
    try:
        with transaction(session_factory(engine)) as session:
            moves: dict[str, list[ReviewAction]] = defaultdict(list)
            for step in session.scalars(select(ReviewAction).order_by(ReviewAction.id)):
                moves[step.event_id].append(step)
            states = dict(session.execute(select(Infraction.event_id, Infraction.review_state)).all())
            entries = ledger.entries(session)
            audit_rows = list(session.execute(select(audit.AuditEntry.seq, audit.AuditEntry.at)).all())
            results: list[tuple[str, str | None]] = []

            twice = [e for e, steps in moves.items() if sum(s.action in ("confirm", "reject") for s in steps) > 1]
            twice += [e for e, steps in moves.items() if sum(s.action == "refer" for s in steps) > 1]
            results.append(("no item decided twice", f"{len(twice)} items, e.g. {twice[0]}" if twice else None))

            unpaired = []
            for event_id, steps in moves.items():
                for i, step in enumerate(steps):
                    if step.from_state == "second_review" and step.action in ("confirm", "reject"):
                        refer = next((s for s in reversed(steps[:i]) if s.action == "refer"), None)
                        if refer is None or refer.actor == step.actor:
                            unpaired.append(event_id)
            results.append(
                (
                    "every second review follows another reviewer's referral",
                    f"{len(unpaired)} items, e.g. {unpaired[0]}" if unpaired else None,
                )
            )

            drifted = [e for e, state in states.items() if state != (moves[e][-1].to_state if moves[e] else "pending")]
            results.append(("each item's state is its last move's", f"{len(drifted)} items" if drifted else None))

            confirmed = {e for e, steps in moves.items() for s in steps if s.action == "confirm" and s.subject_ref}
            deducted = [entry.event_id for entry in entries if entry.kind == "deduction"]
            wrong = len(deducted) != len(set(deducted)) or set(deducted) != confirmed
            wrong = wrong or any(states[e] != "confirmed" for e in deducted)
            results.append(
                (
                    f"ledger deductions ({len(deducted)}) = confirmations naming a subject ({len(confirmed)})",
                    "they differ" if wrong else None,
                )
            )

            problems = ledger.verify_chain(session)
            results.append(("ledger chain verifies", "; ".join(problems[:3]) if problems else None))
            problems = audit.verify(session)
            results.append(("audit chain verifies", "; ".join(problems[:3]) if problems else None))

            def backwards(times: list[datetime]) -> int:
                aware = [t if t.tzinfo else t.replace(tzinfo=UTC) for t in times]
                return sum(b < a for a, b in itertools.pairwise(aware))

            late = backwards([e.created_at for e in entries])
            results.append(
                ("ledger times follow the chain", f"{late} entries timed before the one before" if late else None)
            )
            late = backwards([at for _seq, at in sorted(audit_rows)])
            results.append(
                ("audit times follow the chain", f"{late} entries timed before the one before" if late else None)
            )
            return results
    finally:
        engine.dispose()


# Report -----------------------------------------------------------------------------------------------------


def route_rows(load: Load, seconds: float) -> list[dict[str, Any]]:
    by_route: dict[str, list[Sample]] = defaultdict(list)
    for sample in load.samples:
        by_route[sample.route].append(sample)
    rows = []
    for route in sorted(set(by_route) | set(load.failures)):
        samples = by_route.get(route, [])
        times = [s.seconds * 1000 for s in samples]
        refused = sum(s.status == 409 for s in samples)
        errors = sum(s.status >= 400 and s.status != 409 for s in samples) + load.failures.get(route, 0)
        rows.append(
            {
                "route": route,
                "count": len(samples),
                "per_s": round(len(samples) / seconds, 1),
                "p50_ms": round(percentile(times, 0.5)) if times else None,
                "p95_ms": round(percentile(times, 0.95)) if times else None,
                "p99_ms": round(percentile(times, 0.99)) if times else None,
                "refused_409": refused,
                "errors": errors,
            }
        )
    return rows


def print_table(rows: list[dict[str, Any]], load: Load, seconds: float) -> None:
    click.echo(f"{'route':<32}{'count':>7}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'409':>6}{'errors':>7}")
    for row in rows:
        click.echo(
            f"{row['route']:<32}{row['count']:>7}{row['per_s']:>8}{row['p50_ms']!s:>8}{row['p95_ms']!s:>8}"
            f"{row['p99_ms']!s:>8}{row['refused_409']:>6}{row['errors']:>7}"
        )
    times = [s.seconds * 1000 for s in load.samples]
    total_errors = sum(row["errors"] for row in rows)
    click.echo(
        f"{'all':<32}{len(times):>7}{len(times) / seconds:>8.1f}{round(percentile(times, 0.5))!s:>8}"
        f"{round(percentile(times, 0.95))!s:>8}{round(percentile(times, 0.99))!s:>8}"
        f"{sum(r['refused_409'] for r in rows):>6}{total_errors:>7}"
    )
    for route, example in sorted(load.examples.items()):
        click.echo(f"first error of {route}: {example}")


@click.command("console")
@click.option("--db", "kind", type=click.Choice(["postgresql", "sqlite"]), default="postgresql", show_default=True)
@click.option(
    "--pg",
    "pg_admin_url",
    default=DEFAULT_PG,
    show_default=True,
    help="PostgreSQL URL allowed to create a scratch database.",
)
@click.option(
    "--events", default=2000, show_default=True, type=click.IntRange(min=1), help="Signed infractions seeded."
)
@click.option("--evidence-kb", default=40, show_default=True, type=click.IntRange(min=1), help="Each keyframe's size.")
@click.option("--reviewers", default=6, show_default=True, type=click.IntRange(min=0))
@click.option("--readers", default=20, show_default=True, type=click.IntRange(min=0))
@click.option("--seconds", default=60.0, show_default=True, type=click.FloatRange(min=1))
@click.option("--servers", default=1, show_default=True, type=click.IntRange(min=1), help="`central serve` processes.")
@click.option("--json-out", type=click.Path(dir_okay=False), help="Also write the figures here as JSON.")
def bench_console(
    kind: str,
    pg_admin_url: str,
    events: int,
    evidence_kb: int,
    reviewers: int,
    readers: int,
    seconds: float,
    servers: int,
    json_out: str | None,
) -> None:
    """Reviewers and readers against `central serve` on a scratch database of signed events for a fixed time:
    per-route latency, requests/s and errors, then the database's invariants (exit 1 if one fails)."""
    if reviewers + readers == 0:
        raise click.UsageError("give at least one reviewer or reader")
    password = secrets.token_urlsafe(18)
    users = {f"reviewer-{n}": "reviewer" for n in range(reviewers)}
    users.update({f"reader-{n}": "reviewer" for n in range(readers)})
    with tempfile.TemporaryDirectory(prefix="curbwatch-bench-console-") as tmp_name:
        tmp = Path(tmp_name)
        with scratch_database(kind, tmp, pg_admin_url) as db_url:
            seeded_at = time.monotonic()
            ids = seed(db_url, tmp / "data", events, evidence_kb, users, password)
            click.echo(
                f"seeded {len(ids)} signed events ({kind}) and {len(users)} accounts in "
                f"{time.monotonic() - seeded_at:.1f} s; {servers} central serve, {reviewers} reviewers, "
                f"{readers} readers for {seconds:g} s on {machine()}, load average {os.getloadavg()[0]:.2f}"
            )
            running = serve(db_url, tmp / "data", servers, tmp)
            cpu: dict[str, tuple[float, float, float]] = {}

            def mark(when: str) -> None:
                servers_cpu = sum(cpu_seconds(p.pid) for p, _ in running)
                cpu[when] = (servers_cpu, own_cpu_seconds(), busy_cpu_seconds())

            try:
                load, took = asyncio.run(
                    drive([base for _, base in running], reviewers, readers, seconds, ids, password, mark)
                )
                server_cpu, client_cpu, machine_cpu = (b - a for a, b in zip(cpu["start"], cpu["end"], strict=True))
            finally:
                for process, _ in running:
                    process.send_signal(signal.SIGINT)
                for process, _ in running:
                    try:
                        process.wait(30)
                    except subprocess.TimeoutExpired:
                        process.kill()
            rows = route_rows(load, took)
            print_table(rows, load, took)
            others = machine_cpu - server_cpu - client_cpu
            click.echo(
                f"{load.decisions} decisions in {took:.1f} s; CPU seconds: central serve {server_cpu:.1f}, these "
                f"clients {client_cpu:.1f}, everything else on the machine (PostgreSQL, other work) {others:.1f}, of "
                f"{took * (os.cpu_count() or 1):.0f} available"
            )
            checked = invariants(db_url)
    failed = [what for what, problem in checked if problem]
    for what, problem in checked:
        click.echo(f"{'ok    ' if problem is None else 'FAILED'} {what}{'' if problem is None else f': {problem}'}")
    if json_out:
        figures = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "db": kind,
            "servers": servers,
            "reviewers": reviewers,
            "readers": readers,
            "seconds": round(took, 1),
            "events": events,
            "routes": rows,
            "decisions": load.decisions,
            "cpu_s": {
                "central_serve": round(server_cpu, 1),
                "clients": round(client_cpu, 1),
                "everything_else": round(others, 1),
            },
            "invariants": {what: problem or "ok" for what, problem in checked},
        }
        Path(json_out).write_text(json.dumps(figures, indent=2))
    if failed:
        raise SystemExit(1)
