"""`curbwatch central ...`: ingest, store, review and the console."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click

from central.console.cli import serve, user
from central.review_cli import (
    audit_export,
    catalogue_command,
    checkpoint_command,
    purge,
    verify_audit,
    verify_ledger,
)
from central.transparency.cli import report
from common.cli_errors import DB_HELP, fail

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger(__name__)


@click.group("central")
def central() -> None:
    """The central service that stores events and hosts the review console."""


@central.command("run")
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--broker", default="mqtt://127.0.0.1:1883", show_default=True, help="mqtt://host:port or mqtts://...")
@click.option(
    "--keys",
    "keys_dir",
    default="keys",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of CAMERA_ID.pub files; a message is stored only if its camera's key verifies it.",
)
@click.option(
    "--share-group",
    default="central",
    show_default=True,
    help="MQTT 5 shared subscription group; workers in one group split the stream. '' subscribes plainly.",
)
@click.option(
    "--client-id",
    default="curbwatch-central-1",
    show_default=True,
    help="MQTT client id; stable per worker (its persistent session) and distinct between workers.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Data folder: the SQLite database (without --db), evidence under DATA_DIR/evidence (unless the settings "
    "name an evidence_dir or object store) and, without a settings file, the checkpoint folder "
    "DATA_DIR/checkpoints; default the settings' data_dir (./data).",
)
@click.option("--prefix", default="curbwatch/v1", show_default=True, help="Topic prefix.")
@click.option("--username", help="Broker user name.")
@click.option("--password-file", type=click.Path(dir_okay=False), help="File whose first line is the password.")
@click.option("--ca-file", type=click.Path(dir_okay=False), help="CA bundle for a TLS broker.")
@click.option(
    "--max-age-days",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Infractions that ended longer ago are quarantined as stale (replay protection).",
)
@click.option(
    "--receipt-key",
    type=click.Path(dir_okay=False),
    help="Central's Ed25519 receipt key (`curbwatch keys new central --out DIR`): signs the receipt each camera "
    "waits for before it forgets an event. Cameras name the matching .pub as signing.central_key.",
)
@click.option("--http", "http_bind", help="Also serve the reviewer console on HOST:PORT (as `central serve` does).")
@click.option("--settings", "settings_path", type=click.Path(dir_okay=False), help="Central settings file (YAML).")
def run(
    db_url: str | None,
    broker: str,
    keys_dir: str,
    share_group: str,
    client_id: str,
    data_dir: str | None,
    prefix: str,
    username: str | None,
    password_file: str | None,
    ca_file: str | None,
    max_age_days: float,
    receipt_key: str | None,
    http_bind: str | None,
    settings_path: str | None,
) -> None:
    """Ingest events from the broker until SIGTERM or SIGINT, then exit 0 after the batch in hand."""
    from datetime import timedelta

    from pydantic import ValidationError

    from central.data_dir import with_data_dir
    from central.ingest import IngestWorker
    from central.migrate import migrate_new_sqlite
    from central.receipts import ReceiptSigner
    from central.settings import load_settings
    from central.verify import Verifier
    from models.config.mqtt import MqttConfig, TlsConfig
    from models.errors import format_validation_error
    from models.signing import load_private_key, load_public_keys

    try:
        keys = load_public_keys(Path(keys_dir))
        receipts = ReceiptSigner(load_private_key(Path(receipt_key)), prefix) if receipt_key else None
        config = MqttConfig(
            url=broker,
            prefix=prefix,
            username=username,
            password_file=password_file,
            tls=TlsConfig(ca_file=ca_file) if ca_file else None,
            client_id=client_id,
        )
        verifier = Verifier(keys, prefix=prefix, max_age=timedelta(days=max_age_days))
        settings = with_data_dir(load_settings(settings_path), data_dir)
        db_url = db_url or settings.database_url
        migrate_new_sqlite(db_url)
        evidence = settings.open_evidence()
        worker = IngestWorker(
            db_url, config, verifier, settings.data_dir, client_id, share_group, evidence=evidence, receipts=receipts
        )
    except ValidationError as exc:
        fail("; ".join(format_validation_error(exc, MqttConfig)))
    except ValueError as exc:  # a library's refusal (e.g. of a database URL), one line like curbwatch's own errors
        fail(str(exc))
    if not keys:
        log.warning("no *.pub keys in %s: every message will be quarantined", keys_dir)
    if receipts is None:
        log.warning(
            "no --receipt-key: central sends no receipts, so cameras with signing.central_key keep every event "
            "in their outbox and send it again"
        )
    log.info("evidence goes to %s", evidence.describe())
    worker.stop_on_signals()
    console = _start_console(db_url, settings_path, data_dir, http_bind) if http_bind else None
    try:
        worker.run()
    finally:
        if console is not None:
            console.should_exit = True


def _start_console(
    db_url: str | None, settings_path: str | None, data_dir: str | None, http_bind: str
) -> uvicorn.Server:
    """The console in a thread beside the ingest loop, which keeps the main thread and its signal handlers."""
    import threading

    import uvicorn

    from central.console.cli import build_console, parse_bind

    host, port = parse_bind(http_bind)
    app = build_console(db_url, settings_path, None, insecure_cookies=False, data_dir=data_dir)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info", proxy_headers=False))
    threading.Thread(target=server.run, name="console", daemon=True).start()
    return server


@central.command("list")
@click.option("--db", "db_url", help=DB_HELP)
@click.option("--quarantine", is_flag=True, help="List quarantined messages instead of stored infractions.")
@click.option(
    "--invalid",
    is_flag=True,
    help="List stored infractions and item statuses that today's ingest would refuse (stored by older versions), "
    "with what each breaks; exit 1 when there are any.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def list_command(db_url: str | None, quarantine: bool, invalid: bool, as_json: bool) -> None:
    """Print every stored infraction (or quarantined message, or stored message that breaks the checks)."""
    import json

    from sqlalchemy.exc import SQLAlchemyError

    from central.db import default_db_url, make_engine, session_factory
    from central.listing import infraction_lines, invalid_lines, quarantine_lines

    if quarantine and invalid:
        fail("--quarantine and --invalid list different things: give one of them")
    engine = make_engine(db_url or default_db_url())
    found = 0
    try:
        with session_factory(engine)() as session:
            lines = quarantine_lines if quarantine else invalid_lines if invalid else infraction_lines
            for line in lines(session):
                found += 1
                if as_json:
                    click.echo(json.dumps(line, ensure_ascii=False, sort_keys=True))
                elif invalid:
                    click.echo(f"{line['kind']}  {line['camera_id']}  {line['id']}  {'; '.join(line['breaches'])}")
                elif quarantine:
                    click.echo(f"{line['received_at']}  {line['topic']}  {line['reason']}")
                else:
                    click.echo(
                        f"{line['started_at']}  {line['camera_id']}  {line['type']}  {line['event_id']}  "
                        f"{line['review_state']}"
                    )
    except SQLAlchemyError as exc:
        fail(f"cannot read the database: {str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}")
    finally:
        engine.dispose()
    if invalid and found:
        raise SystemExit(1)


@central.command("migrate")
@click.option("--db", "db_url", help=DB_HELP)
def migrate(db_url: str | None) -> None:
    """Create or upgrade the central database schema to the newest version."""
    from central.db import default_db_url
    from central.migrate import upgrade

    upgrade(db_url or default_db_url())
    click.echo("database is at the newest schema version")


central.add_command(user)
central.add_command(serve)
central.add_command(verify_ledger)
central.add_command(verify_audit)
central.add_command(checkpoint_command)
central.add_command(purge)
central.add_command(audit_export)
central.add_command(catalogue_command)
central.add_command(report)
