"""A checkpoint folder belongs to one ledger (issue 23 §3): two honest databases used one after the other with
one data folder never make `verify-ledger` cry tamper; the second is refused, saying whose folder it is. And
every command that signs or reads checkpoints honours --data-dir, central run and the demo included."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import select

from central import checkpoint, decisions
from central.checkpoint_log import IDENTITY_NAME, CheckpointFolder
from central.data_dir import with_data_dir
from central.db import make_engine, session_factory, transaction
from central.ledger_identity import LedgerIdentity
from central.migrate import upgrade
from central.review import service as review
from central.review.roles import Actor
from central.settings import load_settings
from tests.conftest import ROOT, run_cli
from tests.console_support import PASSWORDS, cut_evidence, free_port, make_central, seed, wait_console
from tests.review_support import T0, add_infraction


def ledger_of(db_url: str) -> str:
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as session:
            return session.scalars(select(LedgerIdentity.ledger_id)).one()
    finally:
        engine.dispose()


def deduct(db_url: str, data_dir: Path, subjects: tuple[str, ...] = ("case-1", "case-2", "case-3")) -> None:
    """Deductions as the console makes them, with the settings a `--data-dir DATA` command line gives."""
    settings = with_data_dir(load_settings(None), data_dir)
    engine = make_engine(db_url)
    try:
        for subject in subjects:
            with transaction(session_factory(engine)) as s:
                event_id = add_infraction(s)
                review.claim(s, event_id, Actor("alice", "reviewer"), T0, settings)
                decisions.decide(
                    s, event_id, Actor("alice", "reviewer"), "confirm", "clear evidence", "", subject, T0, settings
                )
    finally:
        engine.dispose()


def cli(*args: str, cwd: Path):  # type: ignore[no-untyped-def]
    return run_cli("central", *args, cwd=cwd)


def test_two_fresh_databases_one_after_the_other_in_one_data_dir(tmp_path: Path, caplog) -> None:
    data, work = tmp_path / "data", tmp_path / "work"
    work.mkdir()
    first, second = f"sqlite:///{tmp_path / 'first.db'}", f"sqlite:///{tmp_path / 'second.db'}"
    upgrade(first)
    deduct(first, data)
    folder = CheckpointFolder(data / "checkpoints")
    assert folder.owner() == ledger_of(first) and (folder.path / IDENTITY_NAME).exists()
    lines = folder.log.read_text().splitlines()
    assert {json.loads(line)["ledger"] for line in lines} == {ledger_of(first)}
    intact = cli("verify-ledger", "--db", first, "--data-dir", str(data), cwd=work)
    assert intact.returncode == 0 and intact.stdout.splitlines()[1].endswith("signs entry 3 of 3"), intact.stdout

    upgrade(second)
    assert ledger_of(second) != ledger_of(first)
    with caplog.at_level(logging.ERROR, "central.checkpoint_log"):
        deduct(second, data, ("other-1", "other-2"))
    assert folder.log.read_text().splitlines() == lines, "the other database signs nothing into this folder"
    assert f"belongs to ledger {ledger_of(first)}, and this database is ledger {ledger_of(second)}" in caplog.text

    for command in ("verify-ledger", "verify-audit"):
        refused = cli(command, "--db", second, "--data-dir", str(data), cwd=work)
        assert refused.returncode == 1 and refused.stdout == "", refused.stdout
        assert "changed since" not in refused.stderr and "missing" not in refused.stderr
        [line] = refused.stderr.splitlines()
        assert line.startswith(f"error: checkpoint folder {data / 'checkpoints'} belongs to ledger {ledger_of(first)}")
        assert f"this database is ledger {ledger_of(second)}" in line and "a checkpoint folder of its own" in line
    # An auditor's copy of the log, checked against the wrong database: refused the same way, not compared.
    copy = tmp_path / "copy.jsonl"
    copy.write_text(folder.log.read_text())
    keys = str(folder.path)
    refused = cli("verify-ledger", "--db", second, "--checkpoints", str(copy), "--checkpoint-keys", keys, cwd=work)
    assert refused.returncode == 1 and "changed since" not in refused.stdout + refused.stderr
    assert f"signs ledger {ledger_of(first)}, and this database is ledger {ledger_of(second)}" in refused.stderr

    [key] = folder.path.glob("*.key")
    signing = cli("checkpoint", "--db", second, "--data-dir", str(data), "--rotate-key", cwd=work)
    assert signing.returncode == 1 and f"belongs to ledger {ledger_of(first)}" in signing.stderr
    assert list(folder.path.glob("*.key")) == [key], "another ledger's key is not rotated"
    for command in (("purge",), ("catalogue",), ("audit-export", "--out", str(tmp_path / "a.csv"))):
        refused = cli(*command, "--db", second, "--data-dir", str(data), cwd=work)
        assert refused.returncode == 1 and f"belongs to ledger {ledger_of(first)}" in refused.stderr, command
    served = cli("serve", "--db", second, "--data-dir", str(data), "--http", f"127.0.0.1:{free_port()}", cwd=work)
    assert served.returncode == 1 and f"belongs to ledger {ledger_of(first)}" in served.stderr
    assert folder.log.read_text().splitlines() == lines

    # The first database is untouched by all this; the second verifies against a folder of its own.
    assert cli("verify-ledger", "--db", first, "--data-dir", str(data), cwd=work).returncode == 0
    own = tmp_path / "second-data"
    assert cli("checkpoint", "--db", second, "--data-dir", str(own), cwd=work).returncode == 0
    assert CheckpointFolder(own / "checkpoints").owner() == ledger_of(second)
    assert cli("verify-ledger", "--db", second, "--data-dir", str(own), cwd=work).returncode == 0
    assert not (work / "data").exists(), "nothing under the working directory's ./data"


def test_a_folder_from_before_ledger_ids_is_adopted_by_the_upgraded_database(tmp_path: Path, caplog) -> None:
    data, work = tmp_path / "data", tmp_path / "work"
    work.mkdir()
    db = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(db, "0007_item_status")
    # The folder as the release before wrote it: /1 checkpoints, no ledger id.
    folder = CheckpointFolder(data / "checkpoints")
    key_id, key = folder.signing_key(T0)
    upgrade(db)  # 0008 gives the existing database its ledger id
    ledger = ledger_of(db)
    deduct(db, tmp_path / "elsewhere", ("case-1",))  # its checkpoints go elsewhere: the old folder gets /1 ones
    engine = make_engine(db)
    with engine.begin() as conn:
        rows = conn.exec_driver_sql("SELECT seq, hash FROM audit_log ORDER BY seq").all()
        ledger_seq, ledger_hash = conn.exec_driver_sql("SELECT seq, hash FROM ledger_entries").one()
    engine.dispose()
    old_lines = [json.dumps(checkpoint.signed("ledger_entries", ledger_seq, ledger_hash, T0, key_id, key))]
    old_lines += [json.dumps(checkpoint.signed("audit_log", seq, h, T0, key_id, key)) for seq, h in rows]
    folder.log.write_text("\n".join(old_lines) + "\n")
    assert json.loads(old_lines[0])["schema"] == "curbwatch.checkpoint/1" and folder.owner() is None

    intact = cli("verify-ledger", "--db", db, "--data-dir", str(data), cwd=work)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert intact.stdout.splitlines()[1].endswith("signs entry 1 of 1")
    with caplog.at_level(logging.WARNING, "central.checkpoint_log"):
        deduct(db, data, ("case-2",))
    assert folder.owner() == ledger and "held checkpoints from before ledger ids" in caplog.text
    verified = cli("verify-ledger", "--db", db, "--data-dir", str(data), cwd=work)
    assert verified.returncode == 0 and verified.stdout.splitlines()[1].endswith("signs entry 2 of 2")
    assert cli("verify-audit", "--db", db, "--data-dir", str(data), cwd=work).returncode == 0


def test_central_run_keeps_its_checkpoints_under_its_data_dir(tmp_path: Path) -> None:
    data, work = tmp_path / "data", tmp_path / "work"
    work.mkdir()
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    central = make_central(db_url, data)
    event_id = seed(central, cut_evidence(), kind="jaywalking")
    (tmp_path / "keys").mkdir()
    port = free_port()
    log_path = tmp_path / "central.log"
    with log_path.open("w") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "curbwatch", "central", "run", "--db", db_url, "--data-dir", str(data),
             "--keys", str(tmp_path / "keys"), "--client-id", f"cw-test-{port}", "--share-group", "",
             "--http", f"127.0.0.1:{port}"],
            cwd=work, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            wait_console(base, worker, log_path.read_text)
            with httpx.Client(base_url=base, timeout=30) as api:
                token = api.post("/api/v1/session", json={"username": "alice", "password": PASSWORDS["alice"]})
                alice = {"Authorization": f"Bearer {token.json()['token']}"}
                decision = {"decision": "confirm", "reason": "clear evidence", "subject_ref": "case-7", "version": 0}
                decided = api.post(f"/api/v1/infractions/{event_id}/decision", json=decision, headers=alice)
                assert decided.json()["review_state"] == "confirmed", decided.text
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
    folder = CheckpointFolder(data / "checkpoints")
    assert folder.owner() == ledger_of(db_url), log_path.read_text()
    chains = [json.loads(line)["chain"] for line in folder.log.read_text().splitlines()]
    assert "ledger_entries" in chains
    assert not (work / "data").exists(), "nothing under the working directory's ./data"
    assert cli("verify-ledger", "--db", db_url, "--data-dir", str(data), cwd=work).returncode == 0
