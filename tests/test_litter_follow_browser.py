"""Litter followed until it is cleaned up (issue 15 §3), the whole way: the shared ABODA clip (a bag left by the
utility box) replayed through the real detector and littering rule, published to Mosquitto with receipts and
stored by a central worker. The clip ends with the bag on the ground; the camera's outbox then sends that it
was removed, as the edge does when the item's place shows the ground again. A supervisor sees the item on the
"Litter on the ground" list, then its life ending in "removed" on the item page. Screenshots go to
artifacts/screenshots/."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from central.tables import ItemStatus
from curbwatch.local_broker import LocalBroker
from edge.outbox_sink import OutboxSink
from models.config.camera import CameraConfig
from models.item_status import ItemStatusMessage
from tests.browser_support import SHOTS, login, shot
from tests.conftest import ROOT, run_cli, shared_file
from tests.console_support import PASSWORDS, make_central, serve
from tests.transport_kit import Db, make_camera, make_receipt_key, migrate, start_worker, stop, wait_subscribed

pytestmark = pytest.mark.timeout(300)
CAMERA = "sidewalk-box-01"
CLIP = "litter_aboda_video4_bag_left_outdoor"


@dataclass
class Followed:
    db_url: str
    config: Path
    event: dict
    statuses: list[dict]
    """The item statuses the replay wrote beside its events."""


def statuses_of(db_url: str, event_id: str) -> list[str]:
    db = Db(db_url)
    try:
        with db.factory() as session:
            return list(session.scalars(select(ItemStatus.state).where(ItemStatus.event_id == event_id)))
    finally:
        db.close()


@pytest.fixture(scope="module")
def followed(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Followed]:
    tmp = tmp_path_factory.mktemp("litter")
    db_url = f"sqlite:///{tmp / 'central.db'}"
    migrate(db_url)
    with LocalBroker(tmp / "broker") as broker:
        receipt_key = make_receipt_key(tmp)
        camera = make_camera(tmp, CAMERA, broker.url, central_key=receipt_key.with_suffix(".pub"))
        example = yaml.safe_load((ROOT / "examples" / f"{CLIP}.yaml").read_text())
        settings = yaml.safe_load(camera.read_text())
        config = tmp / "camera.yaml"
        config.write_text(yaml.safe_dump({**example, **{k: settings[k] for k in ("mqtt", "signing", "outbox")}}))
        worker = start_worker(tmp, db_url, broker.url, "central-1", "--receipt-key", str(receipt_key))
        try:
            wait_subscribed(tmp)
            result = run_cli(
                "edge", "replay", str(shared_file("media", f"{CLIP}.avi")), "--config",
                str(config), "--model", str(model_path), "--events-out", str(tmp / "events.jsonl"),
                "--evidence-dir", str(tmp / "evidence"), "--publish", timeout=240,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr[-2000:]
            [event] = [json.loads(line) for line in (tmp / "events.jsonl").read_text().splitlines()]
            statuses = [json.loads(line) for line in (tmp / "events.items.jsonl").read_text().splitlines()]
            db = Db(db_url)
            assert db.wait_for(lambda d: d.count() == 1)
            db.close()
            yield Followed(db_url, config, event, statuses)
        finally:
            assert stop(worker) == 0


def test_the_replay_follows_the_item_to_the_end_of_the_clip(followed: Followed) -> None:
    event = followed.event
    assert event["type"] == "littering"
    # The man sets the bag down and walks off; nobody takes it before the clip ends (39 s): still there then.
    assert [s["state"] for s in followed.statuses] == ["still_there"]
    assert 20 < followed.statuses[0]["since_event_s"] < 30
    [status] = followed.statuses
    assert status["event_id"] == event["event_id"] and status["item_box"] == pytest.approx(event["item_box"], abs=0.05)
    assert not {"track", "person", "removed_by"} & status.keys()
    assert statuses_of(followed.db_url, event["event_id"]) == ["still_there"]


def test_the_list_and_then_a_removal_on_the_item_page(browser: Browser, followed: Followed) -> None:
    event_id = followed.event["event_id"]
    central = make_central(followed.db_url, followed.config.parent / "central-data")
    with serve(central) as base:
        sam = login(browser, base, "sam", PASSWORDS["sam"])
        sam.goto("/litter")
        row = sam.locator(f"#litter-aboda-{CAMERA} tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("still there")
        expect(row.locator("a")).to_have_attribute("href", f"/items/{event_id}")
        shot(sam, "litter_on_the_ground")

        # The edge's own path for a removal: signed, queued in the outbox, published, receipted.
        [still] = followed.statuses
        sink = OutboxSink(CameraConfig.model_validate(yaml.safe_load(followed.config.read_text())))
        # A minute after the clip's end, in the camera's time (a replay's clock runs ahead of the wall clock).
        removed = ItemStatusMessage.model_validate(
            {**still, "status_id": str(uuid.uuid4()), "state": "removed", "since_event_s": still["since_event_s"] + 60}
            | {"at": datetime.fromisoformat(still["at"]) + timedelta(seconds=60), "signature": None}
        )
        sink.emit_item(removed)
        assert sink.publisher is not None and sink.publisher.wait_drained(30), "no receipt for the item status"
        sink.close()
        db = Db(followed.db_url)
        assert db.wait_for(lambda _: sorted(statuses_of(followed.db_url, event_id)) == ["removed", "still_there"])
        db.close()

        sam.goto(f"/items/{event_id}")
        life = sam.locator("#item-life")
        expect(life.locator("li.life-removed")).to_contain_text("last seen there")
        expect(life.locator("li.life-still_there")).to_have_count(1)
        expect(life).to_contain_text("who removed it is never recorded")
        life.screenshot(path=str(SHOTS / "item_life.png"))  # the panel only: the whole page is mostly evidence
        sam.goto("/litter")
        expect(sam.locator("p.empty")).to_contain_text("No item is known to be on the ground")
