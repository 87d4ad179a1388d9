"""Issue 23 §6: items no camera speaks of any more (no longer watched, or still there when the stream ended)
leave the Litter page after the settings' litter_item_days, and `central purge` deletes what the camera said
about them (audited); items a camera still reports stay. A real database, console and command."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import yaml

from central.audit import AuditEntry
from central.db import transaction
from central.settings import CentralSettings
from central.tables import ItemStatus
from tests.conftest import run_cli
from tests.console_support import Central, make_central, seed, serve
from tests.test_zone_editor import bearer

DAYS = 3
AGES = {"unknown-10d": ("unknown", 10 * 24.0), "ended-4d": ("still_there", 4 * 24.0),
        "watched-1h": ("still_there", 1.0), "unknown-2d": ("unknown", 2 * 24.0)}  # fmt: skip
"""Each item's latest status and how many hours ago its camera sent it."""
STALE = ("unknown-10d", "ended-4d")


def litter(central: Central) -> dict[str, str]:
    """One littering event per entry of AGES, with a first 'still_there' and then its latest status."""
    events = {}
    now = datetime.now(UTC)
    for name, (state, hours) in AGES.items():
        dropped = now - timedelta(hours=hours + 1)
        event_id = seed(central, kind="littering", started_at=dropped)
        with transaction(central.factory) as session:
            for at, step in ((dropped + timedelta(minutes=5), "still_there"), (now - timedelta(hours=hours), state)):
                session.add(
                    ItemStatus(
                        status_id=str(uuid.uuid4()), event_id=event_id, site="main-st", camera_id="cam-north",
                        state=step, at=at, since_event_s=(at - dropped).total_seconds(), payload={},
                    )
                )  # fmt: skip
        events[name] = event_id
    return events


def test_the_litter_page_leaves_out_items_not_heard_of_for_the_settings_days(db_url: str, tmp_path: Path) -> None:
    central = make_central(db_url, tmp_path)
    central.settings = CentralSettings(data_dir=tmp_path, litter_item_days=DAYS)
    events = litter(central)
    with serve(central) as base:
        page = httpx.get(f"{base}/litter", headers=bearer(base, "sam"))
    assert page.status_code == 200, page.text
    for name, event_id in events.items():
        assert (f"/items/{event_id}" in page.text) == (name not in STALE), name
    assert "has not spoken of for 3 days (litter_item_days in the settings) leaves the list" in page.text


def test_purge_deletes_what_the_camera_said_about_items_off_the_page(db_url: str, tmp_path: Path) -> None:
    central = make_central(db_url, tmp_path)
    events = litter(central)
    settings = tmp_path / "central.yaml"
    settings.write_text(yaml.safe_dump({"litter_item_days": DAYS, "checkpoint_dir": str(tmp_path / "checkpoints")}))
    args = ("central", "purge", "--db", central.url, "--settings", str(settings), "--evidence-dir", str(tmp_path))
    dry = run_cli(*args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "4 item statuses of 2 littering items would be deleted (not heard of for more than 3 days)" in dry.stdout
    real = run_cli(*args)
    assert real.returncode == 0, real.stderr
    assert "4 item statuses of 2 littering items deleted" in real.stdout
    with transaction(central.factory) as session:
        left = {row.event_id for row in session.query(ItemStatus)}
        purged = {entry.target for entry in session.query(AuditEntry).filter_by(action="purge.item_statuses")}
    assert left == {events[name] for name in AGES if name not in STALE}
    assert purged == {f"event:{events[name]}" for name in STALE}
