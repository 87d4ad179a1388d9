"""`curbwatch central verify-ledger | verify-audit | checkpoint | purge | audit-export | catalogue`: the
ledger, retention and audit commands an operator or auditor runs from a shell."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from common.cli_errors import fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from central.checkpoint import Checkpoint
    from central.settings import CentralSettings

DB_HELP = "SQLAlchemy URL (sqlite:///FILE or postgresql+psycopg://...); default from --settings, else ./data."
SETTINGS_HELP = "Central settings file (YAML); defaults when omitted."
T = TypeVar("T")

db_option = click.option("--db", "db_url", help=DB_HELP)
_settings_file_option = click.option("--settings", "settings_path", type=click.Path(dir_okay=False), help=SETTINGS_HELP)
_data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Data folder (the SQLite database, evidence and, without a settings file, checkpoints); default the "
    "settings' data_dir.",
)


def settings_option(command: Callable[..., T]) -> Callable[..., T]:
    """--settings and --data-dir, which every command that reads the settings takes."""
    return _settings_file_option(_data_dir_option(command))


checkpoints_option = click.option(
    "--checkpoints",
    "log_path",
    type=click.Path(dir_okay=False),
    help="Checkpoint log to check against, e.g. an auditor's copy; default checkpoints.jsonl in the settings' "
    "checkpoint_dir.",
)
checkpoint_keys_option = click.option(
    "--checkpoint-keys",
    "keys_dir",
    type=click.Path(file_okay=False),
    help="Folder of the trusted checkpoint public keys (KEY_ID.pub); default the settings' checkpoint_dir.",
)


def _cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _settings(settings_path: str | None, data_dir: str | None) -> CentralSettings:
    """The settings (with `data_dir` when given), imported here so that `--help` loads none of their
    dependencies; ConfigError exits 2."""
    from central.data_dir import with_data_dir
    from central.settings import load_settings

    return with_data_dir(load_settings(settings_path), data_dir)


def _in_transaction(
    settings: CentralSettings, db_url: str | None, work: Callable[[Session], T], *, check_folder: bool = True
) -> T:
    """Run `work` in one transaction on the chosen database; a database that cannot be used is one error line,
    and so is a checkpoint folder that belongs to another database's ledger (unless `check_folder` is off:
    a check against an auditor's copy of the log does not use the folder)."""
    from sqlalchemy.exc import SQLAlchemyError

    from central.checkpoint_log import CheckpointFolder, FolderOfAnotherLedger, ledger_id, watch
    from central.db import make_engine, session_factory, transaction

    engine = make_engine(db_url or settings.database_url)
    try:
        with transaction(session_factory(engine)) as session:
            if check_folder:
                CheckpointFolder(settings.checkpoint_path).check(ledger_id(session))
            watch(session, settings.checkpoint_path)
            return work(session)
    except (FolderOfAnotherLedger, LookupError) as exc:
        fail(str(exc))
    except SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)  # the driver's own error, on StatementError and its subclasses
        first = str(orig if orig else exc).strip().splitlines()[0]
        fail(f"database {engine.url.render_as_string(hide_password=True)}: {first} (run `curbwatch central migrate`?)")
    finally:
        engine.dispose()


@dataclass(frozen=True)
class _Anchors:
    """What a checkpoint log says about one chain: its verified checkpoints and the problems of its lines."""

    log_path: Path
    checkpoints: list[Checkpoint]
    problems: list[str]


def _anchors(
    settings: CentralSettings, log_path: str | None, keys_dir: str | None, chain: str, ledger: str
) -> _Anchors:
    """The checkpoints of `chain` in the log; a log (or folder) of another ledger than `ledger` is refused
    with one line, not compared: its checkpoints are about another database."""
    from central.checkpoint import parse
    from central.checkpoint_log import CheckpointFolder, FolderOfAnotherLedger, read_lines
    from models.signing import SigningKeyError

    folder = CheckpointFolder(settings.checkpoint_path)
    path = Path(log_path) if log_path else folder.log
    try:
        if not log_path:
            folder.check(ledger)
        keys = CheckpointFolder(Path(keys_dir) if keys_dir else folder.path).trusted_keys()
        checkpoints, problems = parse(read_lines(path) or [], keys)
    except FolderOfAnotherLedger as exc:
        fail(str(exc))
    except (SigningKeyError, OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read the checkpoints: {exc}")
    others = sorted({c.ledger for c in checkpoints if c.ledger is not None and c.ledger != ledger})
    if others:
        fail(
            f"checkpoint log {path} signs ledger {', '.join(others)}, and this database is ledger {ledger}: its "
            "checkpoints say nothing about this database, so they are not compared with it. Check this database "
            "against its own checkpoint log, or this log against the database of that ledger"
        )
    return _Anchors(
        path,
        [c for c in checkpoints if c.chain == chain],
        [p.message for p in problems if p.chain in (chain, None)],
    )


def _report(problems: list[str], intact: str, anchors: _Anchors, count: int) -> None:
    """Print the problems and exit 1, or say the chain is intact and how far signed checkpoints vouch for it."""
    from central.checkpoint import newest

    for problem in problems + anchors.problems:
        click.echo(problem)
    if problems or anchors.problems:
        raise SystemExit(1)
    click.echo(intact)
    top = newest(anchors.checkpoints)
    if top is None:
        click.echo(
            f"no signed checkpoint in {anchors.log_path}: an edit whose author recomputed the chain would go unnoticed"
        )
        return
    newer = f"; entries {top.seq + 1}-{count} are newer than every checkpoint" if top.seq < count else ""
    click.echo(f"{top.describe()} signs entry {top.seq} of {count}{newer}")


@click.command("verify-ledger")
@db_option
@settings_option
@checkpoints_option
@checkpoint_keys_option
@click.option("--expect-head", metavar="HASH", help="A head hash printed by an earlier run: it must still be there.")
def verify_ledger(
    db_url: str | None,
    settings_path: str | None,
    data_dir: str | None,
    log_path: str | None,
    keys_dir: str | None,
    expect_head: str | None,
) -> None:
    """Check the ledger's hash chain against itself and against the signed checkpoints of its head. Exit 0
    when intact (prints the entry count, the head hash and the newest checkpoint); exit 1 with one line per
    edited, removed or reordered entry, entry changed since a checkpoint signed it, entries deleted after a
    checkpoint, or checkpoint that is not validly signed by a trusted key."""
    from central.checkpoint_log import ledger_id
    from central.ledger.service import CHAIN, head, verify_chain

    settings = _settings(settings_path, data_dir)
    ledger = _in_transaction(settings, db_url, ledger_id, check_folder=False)
    anchors = _anchors(settings, log_path, keys_dir, CHAIN, ledger)
    problems, (count, last_hash) = _in_transaction(
        settings,
        db_url,
        lambda s: (verify_chain(s, expect_head, anchors.checkpoints), head(s)),
        check_folder=log_path is None,
    )
    noun = "entry" if count == 1 else "entries"
    _report(problems, f"ledger intact: {count} {noun}, head {last_hash}", anchors, count)


@click.command("verify-audit")
@db_option
@settings_option
@checkpoints_option
@checkpoint_keys_option
def verify_audit(
    db_url: str | None, settings_path: str | None, data_dir: str | None, log_path: str | None, keys_dir: str | None
) -> None:
    """Check the audit log's hash chain against itself and against the signed checkpoints of its head: exit 0
    when intact, 1 with one line per problem (as verify-ledger)."""
    from central import audit
    from central.chain_store import chain_head
    from central.checkpoint_log import ledger_id

    settings = _settings(settings_path, data_dir)
    ledger = _in_transaction(settings, db_url, ledger_id, check_folder=False)
    anchors = _anchors(settings, log_path, keys_dir, audit.CHAIN, ledger)
    problems, (count, last_hash) = _in_transaction(
        settings,
        db_url,
        lambda s: (audit.verify(s, anchors.checkpoints), chain_head(s, audit.AuditEntry)),
        check_folder=log_path is None,
    )
    noun = "entry" if count == 1 else "entries"
    _report(problems, f"audit log intact: {count} {noun}, head {last_hash}", anchors, count)


@click.command("checkpoint")
@db_option
@settings_option
@click.option(
    "--rotate-key",
    is_flag=True,
    help="First make a new signing key and delete the old private key; its public key stays, so the "
    "checkpoints it signed still verify. The rotation is audited.",
)
def checkpoint_command(db_url: str | None, settings_path: str | None, data_dir: str | None, rotate_key: bool) -> None:
    """Sign checkpoints of the ledger's and the audit log's current heads into the checkpoint log, unless
    one already signs them. Central signs one at every ledger change; run this every few minutes (cron, a
    timer) so the audit log's newest entries are vouched for too. Makes the signing key if there is none."""
    from central import audit
    from central.chain_store import Head, chain_head
    from central.checkpoint import parse
    from central.checkpoint_log import CheckpointFolder, FolderOfAnotherLedger, ledger_id, read_lines
    from central.ledger.service import CHAIN
    from central.ledger.tables import LedgerEntry
    from models.signing import SigningKeyError

    settings = _settings(settings_path, data_dir)
    folder = CheckpointFolder(settings.checkpoint_path)
    now = datetime.now(UTC)
    # Before the key is touched: a folder of another ledger is neither rotated nor signed into.
    ledger = _in_transaction(settings, db_url, ledger_id)

    def heads(session: Session, rotation: tuple[str, list[str]] | None) -> list[Head]:
        if rotation is not None:
            key_id, retired = rotation
            audit.record(session, _cli_actor(), "config.checkpoint_key", f"key:{key_id}", {"retired": retired})
        chains = ((CHAIN, LedgerEntry), (audit.CHAIN, audit.AuditEntry))
        return [Head(chain, *chain_head(session, model)) for chain, model in chains]

    try:
        rotation = folder.rotate(now) if rotate_key else None
        if rotation is not None:
            retired = ", ".join(rotation[1]) or "none"
            click.echo(f"new checkpoint key {rotation[0]}; retired {retired} (public keys kept)")
        current = _in_transaction(settings, db_url, lambda s: heads(s, rotation))
        signed = {(c.chain, c.seq, c.hash) for c in parse(read_lines(folder.log) or [], folder.trusted_keys())[0]}
        due = [h for h in current if h.seq > 0 and tuple(h) not in signed]
        folder.append(due, now, ledger)
    except FolderOfAnotherLedger as exc:
        fail(str(exc))
    except (SigningKeyError, OSError) as exc:
        fail(f"checkpoint folder {folder.path}: {exc}")
    for h in due:
        click.echo(f"signed {h.chain} entry {h.seq} ({h.hash}) into {folder.log}")
    if not due:
        click.echo(f"nothing new to sign: {folder.log} already signs the current heads")


@click.command("purge")
@db_option
@settings_option
@click.option(
    "--evidence-dir",
    type=click.Path(file_okay=False),
    help="Evidence folder; default from the settings. Unused when the settings name an object store.",
)
@click.option("--dry-run", is_flag=True, help="List what would be purged and change nothing.")
def purge(
    db_url: str | None, settings_path: str | None, data_dir: str | None, evidence_dir: str | None, dry_run: bool
) -> None:
    """Purge evidence past its retention: rejected events after retention_rejected_days, confirmed ones
    once the appeal window has closed. Each purge goes to the purge log and the audit log. The statuses of
    littering items not heard of for litter_item_days go too (audited)."""
    from central.retention import purge as run_purge
    from central.retention import purge_item_statuses
    from central.settings_audit import audit_settings

    settings = _settings(settings_path, data_dir)
    try:
        store = settings.open_evidence(Path(evidence_dir) if evidence_dir else None)
    except ValueError as exc:
        fail(str(exc))
    now = datetime.now(UTC)

    def work(session: Session) -> tuple[list, list]:
        if not dry_run:
            audit_settings(session, settings, _cli_actor(), now)
        return run_purge(session, store, settings, now, dry_run), purge_item_statuses(session, settings, now, dry_run)

    items, stale = _in_transaction(settings, db_url, work)
    verb = "would purge" if dry_run else "purged"
    for item in items:
        click.echo(f"{verb} {item.sha256} ({item.size} bytes) of {','.join(item.event_ids)}: {item.reason}")
    click.echo(f"{len(items)} evidence files {verb}, {sum(i.size for i in items)} bytes")
    click.echo(
        f"{sum(i.statuses for i in stale)} item statuses of {len(stale)} littering items "
        f"{'would be deleted' if dry_run else 'deleted'} "
        f"(not heard of for more than {settings.litter_item_days} days)"
    )


def _parse_since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time such as 2026-01-31T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command("audit-export")
@db_option
@settings_option
@click.option("--out", required=True, type=click.Path(dir_okay=False, writable=True), help="CSV file to write.")
@click.option("--since", callback=_parse_since, help="Only entries at or after this ISO 8601 time (UTC if no offset).")
@click.option("--actor", help="Only entries by this actor.")
@click.option("--action", help="Only this action, or a prefix ending in '.' such as 'review.'.")
def audit_export(
    db_url: str | None,
    settings_path: str | None,
    data_dir: str | None,
    out: str,
    since: datetime | None,
    actor: str | None,
    action: str | None,
) -> None:
    """Write the audit log (filtered) as CSV; the export itself is audited."""
    from central import audit

    filters = {"since": since, "actor": actor, "action": action}

    def export(session: Session) -> int:
        with open(out, "w", newline="", encoding="utf-8") as handle:
            count = audit.export_csv(session, handle, **filters)
        used = {key: value for key, value in filters.items() if value}
        audit.record(session, _cli_actor(), "audit.export", out, used | {"rows": count})
        return count

    try:
        count = _in_transaction(_settings(settings_path, data_dir), db_url, export)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"{count} audit entries written to {out}")


def _parse_points(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, int]:
    points: dict[str, int] = {}
    for value in values:
        kind, sep, number = value.partition("=")
        if not sep or not number.strip().isdigit():
            raise click.BadParameter(f"{value!r} is not TYPE=POINTS, e.g. jaywalking=2")
        points[kind.strip()] = int(number)
    return points


@click.command("catalogue")
@db_option
@settings_option
@click.option(
    "--set",
    "points",
    multiple=True,
    callback=_parse_points,
    metavar="TYPE=POINTS",
    help="Publish a new catalogue version; give every infraction type once.",
)
def catalogue_command(
    db_url: str | None, settings_path: str | None, data_dir: str | None, points: dict[str, int]
) -> None:
    """Print the points catalogue, every version; with --set, first append a new version (audited).
    Versions are never edited: deductions keep the version that priced them."""
    from central.ledger import catalogue

    def work(session: Session) -> list[catalogue.CatalogueVersion]:
        if points:
            catalogue.publish(session, points, _cli_actor(), datetime.now(UTC))
        return catalogue.versions(session)

    versions = _in_transaction(_settings(settings_path, data_dir), db_url, work)
    for version in versions:
        priced = ", ".join(f"{kind} {value}" for kind, value in sorted(version.points.items()))
        click.echo(f"version {version.version} ({version.created_at:%Y-%m-%d} by {version.created_by}): {priced}")
