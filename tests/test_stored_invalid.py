"""Issue 28 §4: messages stored by older versions that break today's checks are shown with a warning on their item
page and listed by `central list --invalid`, never corrected in place."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy import update

from central.db import transaction
from central.tables import Infraction
from tests.conftest import run_cli
from tests.console_support import PASSWORDS, make_central, seed, serve


def test_an_old_invalid_message_is_listed_and_shown_with_a_warning(db_url: str, tmp_path: Path) -> None:
    central = make_central(db_url, tmp_path)
    good = seed(central)
    bad = seed(central, camera_id="cam-south")
    with transaction(central.factory) as session:
        row = session.get(Infraction, bad)
        assert row is not None
        # What an older ingest let through: an int read as 1970, and a bool read as a confidence of 1.
        hostile = {**row.payload, "started_at": 0, "confidence": True}
        session.execute(update(Infraction).where(Infraction.event_id == bad).values(payload=hostile))

    listed = run_cli("central", "list", "--db", db_url, "--invalid", "--json")
    assert listed.returncode == 1, listed.stderr
    lines = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(line["kind"], line["id"], line["camera_id"]) for line in lines] == [("infraction", bad, "cam-south")]
    assert any(b.startswith("started_at: must be an ISO 8601 time") for b in lines[0]["breaches"]), lines
    assert any(b.startswith("confidence: must be a JSON number") for b in lines[0]["breaches"]), lines
    plain = run_cli("central", "list", "--db", db_url, "--invalid")
    assert plain.stdout.startswith(f"infraction  cam-south  {bad}  started_at: must be an ISO 8601 time"), plain.stdout

    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        token = client.get("/login").cookies["cw_login_csrf"]
        client.post("/login", data={"username": "alice", "password": PASSWORDS["alice"], "csrf_token": token})
        page = client.get(f"/items/{bad}")
        assert page.status_code == 200
        assert 'id="invalid-message"' in page.text and "confidence: must be a JSON number" in page.text
        assert "not corrected" in page.text
        fine = client.get(f"/items/{good}")
        assert fine.status_code == 200 and 'id="invalid-message"' not in fine.text
    with transaction(central.factory) as session:
        stored = session.get(Infraction, bad)
        assert stored is not None and stored.payload["started_at"] == 0, "the stored message must stay as it was"

    with transaction(central.factory) as session:
        session.execute(
            update(Infraction)
            .where(Infraction.event_id == bad)
            .values(payload=hostile | {"confidence": 0.5, "started_at": stored.payload["ended_at"]})
        )
    clean = run_cli("central", "list", "--db", db_url, "--invalid")
    assert clean.returncode == 0 and clean.stdout == "", clean.stdout
