"""`curbwatch central user add` and `curbwatch central serve` as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ROOT, run_cli
from tests.console_support import free_port, wait_console


def test_user_add_then_sign_in_to_the_served_console(db_url: str, tmp_path: Path) -> None:
    assert run_cli("central", "migrate", "--db", db_url).returncode == 0
    added = run_cli(
        "central",
        "user",
        "add",
        "rita",
        "--role",
        "reviewer",
        "--db",
        db_url,
        "--password-stdin",
        input="rita-password-1\n",
    )
    assert added.returncode == 0, added.stderr
    assert "added reviewer rita" in added.stdout

    again = run_cli(
        "central",
        "user",
        "add",
        "rita",
        "--role",
        "admin",
        "--db",
        db_url,
        "--password-stdin",
        input="another-password\n",
    )
    assert again.returncode == 1 and again.stderr.strip() == "error: user 'rita' already exists"
    short = run_cli(
        "central", "user", "add", "tom", "--role", "auditor", "--db", db_url, "--password-stdin", input="short\n"
    )
    assert short.returncode == 1 and "at least 10 characters" in short.stderr and "Traceback" not in short.stderr
    bad_role = run_cli(
        "central", "user", "add", "tom", "--role", "boss", "--db", db_url, "--password-stdin", input="x\n"
    )
    assert bad_role.returncode == 2 and "'boss' is not one of" in bad_role.stderr

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "curbwatch",
            "central",
            "serve",
            "--db",
            db_url,
            "--http",
            f"127.0.0.1:{port}",
            "--evidence",
            str(tmp_path / "evidence"),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_console(base, server, lambda: "serve did not come up")
        signed = httpx.post(f"{base}/api/v1/session", json={"username": "rita", "password": "rita-password-1"})
        assert signed.status_code == 200 and signed.json()["role"] == "reviewer"
        spec = httpx.get(f"{base}/openapi.json").json()
        assert "/api/v1/infractions/{event_id}/decision" in spec["paths"]
    finally:
        server.terminate()
        server.wait(20)


def test_serve_refuses_a_bad_bind_address(tmp_path: Path) -> None:
    result = run_cli("central", "serve", "--db", f"sqlite:///{tmp_path / 'c.db'}", "--http", "localhost")
    assert (
        result.returncode == 1
        and result.stderr.strip().splitlines()[-1] == "error: --http 'localhost' is not HOST:PORT"
    )


def test_user_add_on_an_unmigrated_database_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli(
        "central",
        "user",
        "add",
        "x1",
        "--role",
        "admin",
        "--db",
        f"sqlite:///{tmp_path / 'empty.db'}",
        "--password-stdin",
        input="long-enough-pw\n",
    )
    assert result.returncode == 1 and "run `curbwatch central migrate` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_reports_a_bad_settings_file(tmp_path: Path) -> None:
    settings = tmp_path / "central.yaml"
    settings.write_text("claim_ttl_s: 5\nno_such_setting: 1\n")
    result = run_cli("central", "serve", "--settings", str(settings), "--http", "127.0.0.1:1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "claim_ttl_s" in result.stderr and "no_such_setting" in result.stderr


def test_user_reset_password_gives_a_one_time_password_once_and_audits_it(db_url: str) -> None:
    from datetime import UTC, datetime

    from central import audit
    from central.console.auth import authenticate
    from central.db import make_engine, session_factory, transaction

    assert run_cli("central", "migrate", "--db", db_url).returncode == 0
    add = ("central", "user", "add", "rita", "--role", "reviewer", "--db", db_url, "--password-stdin")
    assert run_cli(*add, input="rita-password-1\n").returncode == 0

    reset = run_cli("central", "user", "reset-password", "rita", "--db", db_url)
    assert reset.returncode == 0, reset.stderr
    prefix = "one-time password for rita (shown once; they choose their own at the next sign-in): "
    assert reset.stdout.startswith(prefix) and len(reset.stdout.splitlines()) == 1
    one_time = reset.stdout.removeprefix(prefix).strip()
    assert len(one_time) >= 16

    engine = make_engine(db_url)
    try:
        with transaction(session_factory(engine)) as session:
            now = datetime.now(UTC)
            limits = {"max_failures": 10, "window_s": 600}
            assert authenticate(session, "rita", "rita-password-1", "10.0.0.1", now, **limits).user is None
            signed_in = authenticate(session, "rita", one_time, "10.0.0.1", now, **limits).user
            assert signed_in is not None and signed_in.must_change_password, "she must choose her own first"
            [entry] = audit.entries(session, action="user.password_reset", limit=None)
            issued = {"one_time": True, "credential_issuer": "(host operator)"}
            assert (entry.actor, entry.target, entry.details) == ("cli", "rita", issued)
            assert one_time not in str(entry.details)
    finally:
        engine.dispose()

    unknown = run_cli("central", "user", "reset-password", "nobody", "--db", db_url)
    assert unknown.returncode == 1 and unknown.stderr.strip() == "error: no user 'nobody'"
