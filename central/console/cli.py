"""`curbwatch central user add` and `curbwatch central serve`. Heavy imports stay inside the commands."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from common.cli_errors import DB_HELP, fail

if TYPE_CHECKING:
    from fastapi import FastAPI


CLI_ACTOR = "cli"
"""Who the audit log names for what the command line does: the operator at the central host, not a console user."""


def parse_bind(value: str) -> tuple[str, int]:
    """HOST:PORT (IPv6 as [::1]:8080) or fail with one line."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        fail(f"--http {value!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


@click.group("user")
def user() -> None:
    """Console users."""


@user.command("add")
@click.argument("username")
@click.option(
    "--role", required=True, type=click.Choice(["reviewer", "supervisor", "auditor", "admin"]), help="What they may do."
)
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin (for scripts).")
def add(username: str, role: str, db_url: str | None, password_stdin: bool) -> None:
    """Add a console user USERNAME with ROLE; the password is asked for twice unless --password-stdin."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from central import audit
    from central.console.auth import add_user
    from central.console.tables import HOST_OPERATOR
    from central.db import default_db_url, make_engine, session_factory, transaction

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    engine = make_engine(db_url or default_db_url())
    try:
        with transaction(session_factory(engine)) as session:
            add_user(session, username, password, role, issued_by=HOST_OPERATOR)
            audit.record(
                session,
                CLI_ACTOR,
                "user.add",
                target=username,
                details={"role": role, "credential_issuer": HOST_OPERATOR},
            )
    except (OperationalError, ProgrammingError) as exc:
        fail(f"cannot write to the database ({exc.orig.__class__.__name__}); run `curbwatch central migrate` first?")
    finally:
        engine.dispose()
    click.echo(f"added {role} {username}")


@user.command("reset-password")
@click.argument("username")
@click.option("--db", "db_url", help=DB_HELP)
def reset_password_command(username: str, db_url: str | None) -> None:
    """Give USERNAME a new one-time password, printed once: they must choose their own at the next sign-in.

    For a lost password. The account's open sessions end, and the audit log names the reset; an account reset
    by someone counts as theirs, as one they created does, in the two-reviewer check: from here, the host
    operator's."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from central.console.accounts import reset_password
    from central.console.tables import HOST_OPERATOR
    from central.db import default_db_url, make_engine, session_factory, transaction

    engine = make_engine(db_url or default_db_url())
    try:
        with transaction(session_factory(engine)) as session:
            user, password = reset_password(session, CLI_ACTOR, username, issued_by=HOST_OPERATOR)
            name, active = user.username, user.active
    except (OperationalError, ProgrammingError) as exc:
        fail(f"cannot write to the database ({exc.orig.__class__.__name__}); run `curbwatch central migrate` first?")
    finally:
        engine.dispose()
    click.echo(f"one-time password for {name} (shown once; they choose their own at the next sign-in): {password}")
    if not active:
        click.echo(f"{name} is switched off: an admin switches the account on under Users before it can sign in")


@click.command("serve")
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--http", "http_bind", default="127.0.0.1:8080", show_default=True, help="HOST:PORT to listen on.")
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False), help="Central settings file (YAML).")
@click.option(
    "--evidence",
    "evidence_dir",
    type=click.Path(file_okay=False),
    help="Evidence folder; default DATA/evidence. Unused when the settings name an object store.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Data folder (SQLite database, evidence and, without a settings file, checkpoints); default the settings' "
    "data_dir.",
)
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Send cookies without the Secure flag even off localhost (only behind a TLS proxy on the same host).",
)
def serve(
    db_url: str | None,
    http_bind: str,
    settings_path: str | None,
    evidence_dir: str | None,
    data_dir: str | None,
    insecure_cookies: bool,
) -> None:
    """Serve the reviewer console alone (no ingest) until interrupted."""
    import uvicorn

    host, port = parse_bind(http_bind)
    app = build_console(db_url, settings_path, evidence_dir, insecure_cookies, data_dir)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)


def build_console(
    db_url: str | None,
    settings_path: str | None,
    evidence_dir: str | None,
    insecure_cookies: bool,
    data_dir: str | None = None,
) -> FastAPI:
    """The console app on a migrated database; settings errors (ConfigError) end the command with one line each,
    and so does a checkpoint folder that belongs to another database's ledger."""
    from pathlib import Path

    from central.checkpoint_log import CheckpointFolder, FolderOfAnotherLedger, ledger_id
    from central.console.app import create_app
    from central.data_dir import with_data_dir
    from central.db import make_engine, session_factory
    from central.migrate import upgrade
    from central.settings import load_settings

    settings = with_data_dir(load_settings(settings_path), data_dir)
    url = db_url or settings.database_url
    upgrade(url)
    factory = session_factory(make_engine(url))
    try:
        with factory() as session:
            CheckpointFolder(settings.checkpoint_path).check(ledger_id(session))
    except FolderOfAnotherLedger as exc:
        fail(str(exc))
    try:
        store = settings.open_evidence(Path(evidence_dir) if evidence_dir else None)
    except ValueError as exc:
        fail(str(exc))
    config = settings.console.model_copy(update={"cookie_secure": False}) if insecure_cookies else settings.console
    return create_app(settings, factory, store, config)
