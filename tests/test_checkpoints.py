"""Signed checkpoints of the ledger's and audit log's heads: someone who can write the database, and knows
the hashing code, edits an entry and recomputes every hash after it (or deletes the newest entries); the
chain alone then looks intact, the checkpoints signed with a key outside the database do not."""

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from central import audit, checkpoint, decisions, hashchain
from central.checkpoint_log import CheckpointFolder, watch
from central.db import make_engine, session_factory, transaction
from central.ledger.tables import LedgerEntry
from central.review import service as review
from central.review.roles import Actor
from central.settings import load_settings
from tests.conftest import run_cli
from tests.review_support import T0, add_infraction, without_append_only_guard

MIN = timedelta(minutes=1)

# -- pure: checkpoints against hand-written chains --------------------------------------------------

KEY = Ed25519PrivateKey.generate()
KEYS = {"k1": KEY.public_key()}


def chain(n=5):
    records, prev = [], hashchain.GENESIS
    for seq in range(1, n + 1):
        fields = {"seq": seq, "points": seq, "subject_ref": "case-1"}
        digest = hashchain.link_hash(prev, fields)
        records.append(hashchain.ChainRecord(seq, fields, prev, digest))
        prev = digest
    return records


def log_of(records, seqs=None, key=KEY, key_id="k1"):
    wanted = [r for r in records if seqs is None or r.seq in seqs]
    return [json.dumps(checkpoint.signed("ledger_entries", r.seq, r.hash, T0, key_id, key)) for r in wanted]


def recomputed(records, seq, **changes):
    """The chain after editing entry `seq` and recomputing every hash from it on, as an attacker would."""
    out, prev = [], hashchain.GENESIS
    for record in records:
        fields = {**record.fields, **changes} if record.seq == seq else record.fields
        digest = hashchain.link_hash(prev, fields)
        out.append(hashchain.ChainRecord(record.seq, fields, prev, digest))
        prev = digest
    return out


def problems(records, lines):
    checkpoints, log_problems = checkpoint.parse(lines, KEYS)
    assert log_problems == []
    return hashchain.verify(records) + checkpoint.compare(records, checkpoints)


def test_checkpoints_of_an_untouched_chain_find_nothing():
    records = chain()
    assert problems(records, log_of(records)) == []
    assert problems(records, log_of(records, {2, 5})) == []
    assert problems(records, log_of(records[:3])) == [], "entries newer than every checkpoint are not a problem"
    assert checkpoint.newest(checkpoint.parse(log_of(records, {2, 4}), KEYS)[0]).seq == 4


def test_a_recomputed_edit_is_named_exactly_when_each_entry_was_signed():
    records = chain()
    edited = recomputed(records, 2, points=0)
    assert hashchain.verify(edited) == []
    [problem] = problems(edited, log_of(records))
    assert problem.startswith("entry 2: changed since checkpoint line 2 (2026-03-02T09:00:00.000000Z, key k1)")


def test_two_recomputed_edits_are_both_named():
    records = chain()
    edited = recomputed(recomputed(records, 2, points=0), 4, subject_ref="case-9")
    assert [p.split(":")[0] for p in problems(edited, log_of(records))] == ["entry 2", "entry 4"]


def test_between_sparse_checkpoints_the_span_is_named():
    records = chain()
    [problem] = problems(recomputed(records, 3, points=0), log_of(records, {1, 4}))
    assert problem.startswith("entry 2-4: at least one was changed since checkpoint line 2")


def test_deleting_the_newest_entries_is_found():
    records = chain()
    [problem] = problems(records[:3], log_of(records))
    assert problem.startswith("entry 4-5 missing: checkpoint line 5")
    assert "signed 5 entries, the database holds 3" in problem


def test_forged_unknown_and_malformed_lines_vouch_for_nothing():
    records = chain(2)
    forged = json.loads(log_of(records, {2})[0]) | {"hash": "f" * 64}
    other = log_of(records, {1}, key=Ed25519PrivateKey.generate(), key_id="k9")[0]
    lines = [json.dumps(forged), other, "{not json", json.dumps({"schema": "x"}), ""]
    checkpoints, log_problems = checkpoint.parse(lines, KEYS)
    assert checkpoints == []
    assert [p.message for p in log_problems] == [
        "checkpoint line 1: its signature does not verify (forged)",
        "checkpoint line 2: signed by key 'k9', not a trusted key",
        "checkpoint line 3: not JSON",
        f"checkpoint line 4: not a {checkpoint.SCHEMA} record",
    ]


# -- a real database, the real command ---------------------------------------------------------------


@pytest.fixture(name="central")
def central_fixture(db_url, tmp_path):
    """A migrated database and a settings file whose checkpoint folder is the default, beside it."""
    settings_path = tmp_path / "etc" / "central.yaml"
    settings_path.parent.mkdir()
    settings_path.write_text(f"data_dir: {tmp_path / 'data'}\nsecond_review_points: 5\n")
    assert run_cli("central", "migrate", "--db", db_url).returncode == 0
    engine = make_engine(db_url)
    yield db_url, str(settings_path), session_factory(engine), load_settings(settings_path)
    engine.dispose()


def deduct(factory, settings, subject):
    with transaction(factory) as s:
        event_id = add_infraction(s)
        review.claim(s, event_id, Actor("alice", "reviewer"), T0, settings)
        decisions.decide(
            s, event_id, Actor("alice", "reviewer"), "confirm", "clear evidence", "", subject, T0, settings
        )


def verify(command, db_url, settings_path, *extra):
    return run_cli("central", command, "--db", db_url, "--settings", settings_path, *extra)


def recompute(session, model, table, seq, change):
    """Edit entry `seq` of `table` and rewrite every hash from it on with the project's own hashing code."""
    without_append_only_guard(session, table)
    rows = list(session.scalars(select(model).where(model.seq >= seq).order_by(model.seq)))
    change(rows[0])
    prev = rows[0].prev_hash
    for row in rows:
        row.prev_hash, row.hash = prev, hashchain.link_hash(prev, row.hashed_fields())
        prev = row.hash
    session.flush()


def test_a_recomputed_ledger_is_caught_by_the_checkpoints(central, tmp_path):
    db_url, settings_path, factory, settings = central
    for subject in ("case-1", "case-2", "case-3"):
        deduct(factory, settings, subject)
    folder = tmp_path / "etc" / "checkpoints"
    assert settings.checkpoint_path == folder and len(list(folder.glob("checkpoint-*.key"))) == 1
    intact = verify("verify-ledger", db_url, settings_path)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert intact.stdout.splitlines()[1].endswith("signs entry 3 of 3")

    with transaction(factory) as s:
        recompute(s, LedgerEntry, "ledger_entries", 2, lambda row: setattr(row, "points", 0))
    blind = verify("verify-ledger", db_url, settings_path, "--checkpoints", str(tmp_path / "elsewhere.jsonl"))
    assert blind.returncode == 0 and blind.stdout.startswith("ledger intact: 3 entries"), "the chain alone is fooled"
    caught = verify("verify-ledger", db_url, settings_path)
    assert caught.returncode == 1
    [line] = caught.stdout.splitlines()
    assert line.startswith("ledger entry 2: changed since checkpoint line ") and "signed it" in line

    with transaction(factory) as s:
        s.execute(text("DELETE FROM ledger_entries WHERE seq = 3"))
    truncated = verify("verify-ledger", db_url, settings_path)
    assert truncated.returncode == 1
    assert truncated.stdout.splitlines()[0].startswith("ledger entry 3 missing: checkpoint line ")
    assert "ledger entry 2: changed since" in truncated.stdout


def test_deleting_the_newest_ledger_entries_is_caught(central):
    db_url, settings_path, factory, settings = central
    for subject in ("case-1", "case-2", "case-3"):
        deduct(factory, settings, subject)
    with transaction(factory) as s:
        without_append_only_guard(s, "ledger_entries")
        s.execute(text("DELETE FROM ledger_entries WHERE seq >= 2"))
    result = verify("verify-ledger", db_url, settings_path)
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    assert line.startswith("ledger entry 2-3 missing: checkpoint line ")
    assert line.endswith("signed 3 entries, the database holds 1: the newest were deleted")


def write_audit(factory, folder, count, start=0):
    """Audit entries in transactions that sign checkpoints, as the console's and commands' do."""
    for n in range(start, start + count):
        with transaction(factory) as s:
            watch(s, folder)
            audit.record(s, f"user{n}", "evidence.view", f"evidence:{n}", now=T0 + n * MIN)


def test_a_recomputed_or_truncated_audit_log_is_caught(central):
    db_url, settings_path, factory, settings = central
    write_audit(factory, settings.checkpoint_path, 4)
    intact = verify("verify-audit", db_url, settings_path)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert intact.stdout.splitlines()[1].endswith("signs entry 4 of 4")

    with transaction(factory) as s:
        recompute(s, audit.AuditEntry, "audit_log", 2, lambda row: setattr(row, "actor", "nobody"))
        assert audit.verify(s) == []
    caught = verify("verify-audit", db_url, settings_path)
    assert caught.returncode == 1
    [line] = caught.stdout.splitlines()
    assert line.startswith("audit entry 2: changed since checkpoint line 2 ")

    with transaction(factory) as s:
        s.execute(text("DELETE FROM audit_log WHERE seq = 4"))
    truncated = verify("verify-audit", db_url, settings_path)
    assert truncated.returncode == 1
    assert truncated.stdout.splitlines()[0].startswith("audit entry 4 missing: checkpoint line 4 ")


def test_a_forged_log_line_is_caught(central, tmp_path):
    db_url, settings_path, factory, settings = central
    deduct(factory, settings, "case-1")
    log = settings.checkpoint_path / "checkpoints.jsonl"
    lines = log.read_text().splitlines()
    ledger_line = next(n for n, line in enumerate(lines) if '"ledger_entries"' in line)
    lines[ledger_line] = json.dumps(json.loads(lines[ledger_line]) | {"hash": "0" * 64})
    log.write_text("\n".join(lines) + "\n")
    result = verify("verify-ledger", db_url, settings_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"checkpoint line {ledger_line + 1}: its signature does not verify (forged)"]


def test_first_start_makes_the_key_and_rotation_keeps_old_checkpoints_verifiable(central, tmp_path):
    db_url, settings_path, factory, settings = central
    folder = CheckpointFolder(settings.checkpoint_path)
    assert not folder.path.exists()
    first = run_cli("central", "checkpoint", "--db", db_url, "--settings", settings_path)
    assert first.returncode == 0, first.stderr
    assert "made checkpoint signing key" in first.stderr and str(folder.path) in first.stderr
    assert "nothing new to sign" in first.stdout, "an empty database has no head to sign"
    [old_key] = folder.path.glob("*.key")

    write_audit(factory, folder.path, 2)
    again = run_cli("central", "checkpoint", "--db", db_url, "--settings", settings_path)
    assert again.stdout.strip() == "nothing new to sign: " + str(folder.log) + " already signs the current heads"

    rotated = run_cli("central", "checkpoint", "--db", db_url, "--settings", settings_path, "--rotate-key")
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.stdout.startswith("new checkpoint key checkpoint-") and f"retired {old_key.stem}" in rotated.stdout
    [new_key] = folder.path.glob("*.key")
    assert new_key != old_key and (folder.path / f"{old_key.stem}.pub").exists()
    write_audit(factory, folder.path, 1, start=2)
    key_ids = [json.loads(line)["key_id"] for line in folder.log.read_text().splitlines()]
    assert key_ids == [old_key.stem] * 2 + [new_key.stem] * 2, "the rotation is audited and signed by the new key"

    verified = verify("verify-audit", db_url, settings_path)
    assert verified.returncode == 0, verified.stdout
    assert verified.stdout.splitlines()[0].startswith("audit log intact: 4 entries")
    assert f"key {new_key.stem}) signs entry 4 of 4" in verified.stdout

    auditor = tmp_path / "auditor-keys"
    auditor.mkdir()
    (auditor / f"{new_key.stem}.pub").write_bytes((folder.path / f"{new_key.stem}.pub").read_bytes())
    partial = verify("verify-audit", db_url, settings_path, "--checkpoint-keys", str(auditor))
    assert partial.returncode == 1
    assert partial.stdout.splitlines() == [
        f"checkpoint line {n}: signed by key '{old_key.stem}', not a trusted key" for n in (1, 2)
    ]


def test_several_private_keys_are_refused_with_a_clear_error(central):
    db_url, settings_path, factory, settings = central
    folder = CheckpointFolder(settings.checkpoint_path)
    folder.signing_key(T0)
    folder.new_key(T0 + MIN)
    result = run_cli("central", "checkpoint", "--db", db_url, "--settings", settings_path)
    assert result.returncode == 1
    assert "must hold exactly one checkpoint signing key (*.key), it holds checkpoint-" in result.stderr
    write_audit(factory, folder.path, 1)
    assert not folder.log.exists(), "a ledger or audit change still commits; the missed checkpoint is logged"


def test_checkpoint_records_are_plain_signed_json(central):
    _db_url, _settings_path, factory, settings = central
    write_audit(factory, settings.checkpoint_path, 1)
    [line] = (settings.checkpoint_path / "checkpoints.jsonl").read_text().splitlines()
    record = json.loads(line)
    assert set(record) == checkpoint.FIELDS and record["chain"] == "audit_log" and record["seq"] == 1
    assert (settings.checkpoint_path / f"{record['key_id']}.key").stat().st_mode & 0o077 == 0
