"""Issue 23 §1: no person gives both reviews of a deduction, not through accounts whose credentials they issued.
Through the real console API on a real server; the migration on a database as 0008 left it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import sqlalchemy as sa
from alembic import command

from central import audit, decisions
from central.console.tables import HOST_OPERATOR
from central.db import make_engine, session_factory, transaction
from central.ledger.tables import LedgerEntry
from central.migrate import alembic_config
from central.review import service as review
from central.review.roles import Actor
from central.user_accounts import ConsoleUser
from tests.conftest import run_cli
from tests.console_support import bearer, cut_evidence, make_central, seed, serve

DECISION = {"decision": "confirm", "reason": "clear evidence", "subject_ref": "SUBJ-M2", "version": 0}
SECOND = {**DECISION, "version": 2}
"""The second review, on the version that shows the first reviewer's claim and referral."""


def new_reviewer(client: httpx.Client, admin: dict[str, str], name: str) -> dict[str, str]:
    """As the issue's reproduction: the admin creates the account, signs in with its one-time password and sets
    a password of their own choosing; returns the account's bearer headers."""
    made = client.post("/api/v1/users", json={"username": name, "role": "reviewer"}, headers=admin)
    assert made.status_code == 201, made.text
    one_time, chosen = made.json()["one_time_password"], f"{name}-chosen-later-77"
    changed = client.post(
        "/api/v1/me/password", json={"current": one_time, "new": chosen}, headers=bearer(client, name, one_time)
    )
    assert changed.status_code == 204, changed.text
    return bearer(client, name, chosen)


def deductions(central, event_id: str) -> int:
    with transaction(central.factory) as session:
        return len(session.scalars(sa.select(LedgerEntry).where(LedgerEntry.event_id == event_id)).all())


def test_one_admin_cannot_give_both_reviews_through_two_accounts_they_made(db_url: str, tmp_path: Path) -> None:
    central = make_central(db_url, tmp_path)
    event = seed(central, cut_evidence(frames=8), kind="littering")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        root = bearer(client, "root")
        m2a, m2b = new_reviewer(client, root, "m2a"), new_reviewer(client, root, "m2b")
        first = client.post(f"/api/v1/infractions/{event}/decision", json=DECISION, headers=m2a)
        assert first.json()["review_state"] == "awaiting_second", first.text
        # Before m2b acts, the item says why m2b may not give the second confirmation.
        [warning] = client.get(f"/api/v1/infractions/{event}", headers=m2b).json()["warnings"]
        assert "You cannot give the second confirmation" in warning and "issued by root" in warning
        assert client.get(f"/api/v1/infractions/{event}", headers=bearer(client, "bob")).json()["warnings"] == []

        second = client.post(f"/api/v1/infractions/{event}/second-review", json=SECOND, headers=m2b)
        assert second.status_code == 409, second.text
        detail = second.json()["detail"]
        assert "credentials of both reviewers (m2a and m2b) were issued by root" in detail
        assert "SUBJ-M2" not in detail
        assert deductions(central, event) == 0
        # The item went back to the queue undecided; a reviewer whose credential someone else issued may confirm.
        third = client.post(f"/api/v1/infractions/{event}/second-review", json=SECOND, headers=bearer(client, "bob"))
        assert third.json()["review_state"] == "confirmed", third.text
    assert deductions(central, event) == 1


def test_a_reviewer_cannot_second_an_account_they_issued_and_a_reset_moves_the_issuer(
    db_url: str, tmp_path: Path
) -> None:
    central = make_central(db_url, tmp_path)
    event = seed(central, cut_evidence(frames=8), kind="littering")
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        m3 = new_reviewer(client, bearer(client, "root"), "m3")
        # The console keeps admins out of the queue; the review service still lets one review, so it must check.
        with transaction(central.factory) as session:
            at, root_actor = datetime.now(UTC), Actor("root", "admin")
            review.claim(session, event, root_actor, at, central.settings)
            state = decisions.decide(
                session, event, root_actor, "confirm", "clear evidence", "", "S-1", at, central.settings
            )
        assert state == "awaiting_second"
        second = client.post(f"/api/v1/infractions/{event}/second-review", json=SECOND, headers=m3)
        assert second.status_code == 409
        assert "root issued the credential of m3" in second.json()["detail"]

        # The host operator resets m3's password from the shell: root no longer knows it, nor chose the next one.
        reset = run_cli("central", "user", "reset-password", "m3", "--db", db_url)
        assert reset.returncode == 0, reset.stderr
        one_time = reset.stdout.rsplit(": ", 1)[1].strip()
        client.post(
            "/api/v1/me/password",
            json={"current": one_time, "new": "m3-own-choice-after-reset-8"},
            headers=bearer(client, "m3", one_time),
        ).raise_for_status()
        m3 = bearer(client, "m3", "m3-own-choice-after-reset-8")
        assert client.get(f"/api/v1/infractions/{event}", headers=m3).json()["warnings"] == []
        again = client.post(
            f"/api/v1/infractions/{event}/second-review", json={**SECOND, "subject_ref": "S-1"}, headers=m3
        )
        assert again.json().get("review_state") == "confirmed", again.text
    with transaction(central.factory) as session:
        [entry] = audit.entries(session, action="user.password_reset")
        assert entry.details["credential_issuer"] == HOST_OPERATOR
        issuers = dict(session.execute(sa.select(ConsoleUser.username, ConsoleUser.credential_issuer)).all())
    assert issuers["m3"] == HOST_OPERATOR


def test_the_migration_takes_each_accounts_issuer_from_the_audit_log(db_url: str) -> None:
    config = alembic_config(db_url)
    command.upgrade(config, "0008_ledger_identity")
    engine = make_engine(db_url)
    users = sa.table(
        "console_users",
        sa.column("username", sa.String),
        sa.column("username_key", sa.String),
        sa.column("password_hash", sa.String),
        sa.column("role", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("must_change_password", sa.Boolean),
    )
    with engine.begin() as connection:
        for name in ("made-by-root", "reset-by-ann", "from-cli", "from-demo", "unrecorded"):
            connection.execute(
                users.insert().values(
                    username=name,
                    username_key=name,
                    password_hash="x",
                    role="reviewer",
                    active=True,
                    must_change_password=False,
                )
            )
    with transaction(session_factory(engine)) as session:
        audit.record(session, "root", "user.add", target="made-by-root", details={})
        audit.record(session, "root", "user.add", target="reset-by-ann", details={})
        audit.record(session, "ann", "user.password_reset", target="reset-by-ann", details={})
        audit.record(session, "cli", "user.add", target="from-cli", details={})
        audit.record(session, "demo", "user.add", target="from-demo", details={})
    command.upgrade(config, "head")
    with engine.connect() as connection:
        issuers = dict(connection.execute(sa.select(ConsoleUser.username, ConsoleUser.credential_issuer)).all())
    engine.dispose()
    assert issuers == {
        "made-by-root": "root",
        "reset-by-ann": "ann",
        "from-cli": HOST_OPERATOR,
        "from-demo": HOST_OPERATOR,
        "unrecorded": HOST_OPERATOR,
    }
