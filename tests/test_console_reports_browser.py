"""Reports and Rules in Chromium, on events that came the whole way: the shared crosswalk footage replayed
through the real detector and rules, signed, published to Mosquitto and stored by a central worker. Reviewers'
decisions are then given through the review service; an auditor makes the site's transparency report, a
supervisor moves a threshold in a what-if and sees past events change sides. Screenshots go to
artifacts/screenshots/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from central import audit, decisions
from central.db import transaction
from central.review import service as review
from central.review.roles import Actor
from central.settings import CentralSettings
from curbwatch.local_broker import LocalBroker
from tests.browser_support import SHOTS, shot
from tests.browser_support import login as browser_login
from tests.conftest import ROOT, run_cli, shared_file
from tests.console_support import PASSWORDS, Central, make_central, serve
from tests.review_support import CHECKPOINT_DIR
from tests.transport_kit import Db, make_camera, migrate, start_worker, stop, wait_subscribed

SETTINGS = CentralSettings(checkpoint_dir=CHECKPOINT_DIR)
LOOSE = {"min_depth": 0.0, "min_duration_s": 0.3, "min_distance": 0.03, "min_move": 0.01}


@dataclass
class Replayed:
    base: str
    central: Central
    events: list[dict]
    """The messages the replay published, as the edge wrote them."""
    confirmed: list[str]
    rejected: list[str]


def replay_through_the_broker(tmp: Path, model: Path) -> tuple[str, list[dict]]:
    db_url = f"sqlite:///{tmp / 'central.db'}"
    migrate(db_url)
    with LocalBroker(tmp / "broker") as broker:
        camera = yaml.safe_load(make_camera(tmp, "intersection-01", broker.url).read_text())
        example = yaml.safe_load((ROOT / "examples" / "jay_intersection_crosswalk.yaml").read_text())
        # Tuned too loosely, as a new camera may be: a walker along the kerb line fires as well as the crossing.
        example["rules"]["jaywalking"] = LOOSE
        config = tmp / "camera.yaml"
        config.write_text(yaml.safe_dump({**example, **{k: camera[k] for k in ("mqtt", "signing", "outbox")}}))
        worker = start_worker(tmp, db_url, broker.url)
        try:
            wait_subscribed(tmp)
            result = run_cli(
                "edge", "replay", str(shared_file("media", "jay_intersection_crosswalk.mp4")), "--config", str(config),
                "--model", str(model), "--events-out", str(tmp / "events.jsonl"), "--evidence-dir",
                str(tmp / "evidence"), "--publish", timeout=300,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr[-2000:]
            events = [json.loads(line) for line in (tmp / "events.jsonl").read_text().splitlines()]
            assert len(events) >= 2, "the crosswalk clip should give several jaywalking events"
            db = Db(db_url)
            assert db.wait_for(lambda d: d.count() == len(events))
            db.close()
        finally:
            assert stop(worker) == 0
    return db_url, events


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory, model_path: Path) -> Iterator[Replayed]:
    tmp = tmp_path_factory.mktemp("replayed")
    db_url, events = replay_through_the_broker(tmp, model_path)
    central = make_central(db_url, tmp / "central-data")
    central.settings = SETTINGS
    # Reviewers decide: the shallowest crossing is rejected as not an infraction, the rest confirmed.
    ordered = sorted(events, key=lambda e: e["rule"]["measurements"]["max_depth"])
    rejected, confirmed = [ordered[0]["event_id"]], [e["event_id"] for e in ordered[1:]]
    now = datetime.now(UTC)
    with transaction(central.factory) as session:
        for i, event_id in enumerate(confirmed + rejected):
            review.claim(session, event_id, Actor("alice", "reviewer"), now, SETTINGS)
            if event_id in confirmed:
                args = ("confirm", "clear evidence", "", f"case-{i:03d}")
            else:
                args = ("reject", "not an infraction", "", None)
            decisions.decide(session, event_id, Actor("alice", "reviewer"), *args, now, SETTINGS)  # type: ignore[arg-type]
    with serve(central) as base:
        yield Replayed(base, central, events, confirmed, rejected)


def login(browser: Browser, base: str, name: str) -> Page:
    return browser_login(browser, base, name, PASSWORDS[name], downloads=True)


def audited(central: Central, action: str) -> list[audit.AuditEntry]:
    with transaction(central.factory) as session:
        return [
            e for e in session.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.seq)) if e.action == action
        ]


def figure(page: Page, key: str, column: int = 0) -> str:
    return page.locator(f"table.report-figures tr[data-figure='{key}'] td").nth(column).inner_text()


def test_an_auditor_makes_the_sites_transparency_report(browser: Browser, replayed: Replayed) -> None:
    today = datetime.now(UTC).date()
    days = f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
    audrey = login(browser, replayed.base, "audrey")
    audrey.goto("/reports")
    expect(audrey.locator("select[name=site]")).to_have_value("campus-ave")
    audrey.goto(f"/reports?site=campus-ave&{days}")
    header = audrey.locator("table.report-figures thead th").nth(1)
    expect(header).to_contain_text("intersection-01")
    expect(header).to_contain_text("jaywalking")
    # Counted independently: what the replay published and what the reviewers decided above (a figure under the
    # settings' threshold of 5, or one that would give such a figure away, reads "hidden").
    assert figure(audrey, "received") in (str(len(replayed.events)), "hidden")
    assert figure(audrey, "confirmed") in (str(len(replayed.confirmed)), "hidden")
    assert figure(audrey, "rejected: not an infraction") in (str(len(replayed.rejected)), "hidden")
    assert figure(audrey, "points_deducted") in (str(2 * len(replayed.confirmed)), "hidden")
    assert figure(audrey, "quarantined") == "0"
    bars = 1 if figure(audrey, "received") == "hidden" else 2  # the bar, when shown, and its legend
    expect(audrey.locator("figure.chart svg rect.series-received")).to_have_count(bars)

    expect(audrey.locator("table.report-figures tr[data-figure='rejected: not an infraction'] td").first).to_have_text(
        "hidden"
    )
    shot(audrey, "reports")
    # Days around today are no whole past month: marked, nothing offered to publish (issue 23 §4c); its link
    # leads to last month, which is.
    expect(audrey.locator("p.not-for-publication")).to_contain_text("Not for publication")
    expect(audrey.locator("p.downloads")).to_have_count(0)
    audrey.click("p.not-for-publication a")
    with audrey.expect_download() as download:
        audrey.click("p.downloads a:text('HTML page to publish')")
    page = Path(download.value.path()).read_text()
    assert "Transparency report: site campus-ave" in page
    assert "<script" not in page and "<img" not in page and "case-" not in page
    made = audited(replayed.central, "report.transparency")
    assert [(e.actor, e.details["format"]) for e in made][-2:] == [("audrey", "page"), ("audrey", "html")]

    alice = login(browser, replayed.base, "alice")
    assert alice.goto("/reports").status == 403
    assert alice.goto("/rules").status == 403


def test_a_supervisors_what_if_moves_past_events_to_the_other_side(browser: Browser, replayed: Replayed) -> None:
    depths = sorted(e["rule"]["measurements"]["max_depth"] for e in replayed.events)
    sam = login(browser, replayed.base, "sam")
    sam.goto("/rules")
    row = sam.locator("table.grid tbody tr", has_text="intersection-01")
    expect(row).to_contain_text(str(len(replayed.confirmed)))
    row.locator("a").click()
    expect(sam.locator("h1")).to_contain_text("jaywalking on intersection-01")
    expect(sam.locator("table.thresholds")).to_contain_text("needs a replay of footage")
    # Just deeper than the shallowest crossing: the rejected false alarm would not have fired.
    proposed = round(depths[0] + 0.001, 4)
    sam.fill("#what-if input[name=min_depth]", str(proposed))
    sam.click("#what-if button[type=submit]")
    expect(sam.locator("#outcome")).to_be_visible()
    changed = sam.locator("table.whatif tr.changes")
    assert changed.count() >= 1
    expect(changed.first.locator("td.verdict")).to_have_text("does not fire")
    expect(sam.locator("table.whatif tbody tr", has_text=replayed.rejected[0][:8]).locator("td.verdict")).to_have_text(
        "does not fire"
    )
    expect(sam.locator(".dropped-false")).to_have_text("1")
    expect(sam.locator("figure.chart svg.whatif-chart circle.dropped").first).to_be_visible()
    expect(sam.locator("#camera-change")).to_contain_text(f"min_depth: {proposed}")
    shot(sam, "rules-what-if")
    with sam.expect_download() as download:
        sam.click("text=Download the change (YAML)")
    change = yaml.safe_load(Path(download.value.path()).read_text())
    assert change == {"rules": {"jaywalking": {"min_depth": proposed}}}
    runs = audited(replayed.central, "whatif.run") + audited(replayed.central, "whatif.export")
    assert [(e.actor, e.details["proposed"]) for e in runs] == [("sam", {"min_depth": proposed})] * 2
    # Nothing was decided again: the events keep their review states.
    with transaction(replayed.central.factory) as session:
        states = {i.event_id: i.review_state for i in review.queue(session, now=datetime.now(UTC), states=["rejected"])}
    assert set(states) == set(replayed.rejected)

    audrey = login(browser, replayed.base, "audrey")
    audrey.goto(sam.url.split("/what-if")[0])
    expect(audrey.locator("table.precision")).to_be_visible()
    expect(audrey.locator("#what-if")).to_have_count(0)
    assert re.search(r"/rules/campus-ave/intersection-01/jaywalking$", audrey.url)


def test_a_subjects_own_record_is_one_printable_page_of_its_site(
    browser: Browser, replayed: Replayed, tmp_path: Path
) -> None:
    audrey = login(browser, replayed.base, "audrey")
    audrey.goto("/subject-report")
    audrey.fill("#subject-report input[name=subject]", "case-000")
    audrey.fill("#subject-report input[name=site]", "campus-ave")
    with audrey.expect_download() as download:
        audrey.click("#subject-report button")
    path = tmp_path / "record.html"
    download.value.save_as(path)
    page = path.read_text()
    assert "Record held about case-000" in page and "<script" not in page and "http" not in page
    assert page.count('<img src="data:image/jpeg;base64,') >= 1, "the event's redacted keyframes are in the page"
    assert "alice" not in page  # what was decided and why, not who typed it
    record = browser.new_context(viewport={"width": 800, "height": 760}).new_page()
    record.goto(path.as_uri())
    expect(record.locator("#balance")).to_have_text("2")
    expect(record.locator("section.entry")).to_have_count(1)
    expect(record.locator("table.trace")).to_contain_text("in the road")
    expect(record.locator("section.entry")).to_contain_text("none filed; the window closes")
    assert record.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    record.screenshot(path=str(SHOTS / "subject-record.png"))  # the first screen only: the photographs weigh
    # Another site's record of the same reference holds nothing of this one.
    # The form POSTs the reference (issue 23 §2); a reference in a URL is refused without being repeated.
    audrey.goto("/subject-report")
    csrf = audrey.locator("#subject-report input[name=csrf_token]").input_value()
    other = audrey.request.post(
        "/subject-report/download", form={"subject": "case-000", "site": "elsewhere", "csrf_token": csrf}
    )
    assert other.ok and "No entries." in other.text() and "<img" not in other.text()
    in_url = audrey.request.get("/subject-report/download?subject=case-000&site=elsewhere")
    assert in_url.status == 400 and "case-000" not in in_url.text()
    stale = audrey.request.post("/subject-report/download", form={"subject": "case-000", "site": "elsewhere"})
    assert stale.status == 403, "without the CSRF token the record is not made"
    made = audited(replayed.central, "report.subject")
    assert [(e.actor, e.target, e.details) for e in made] == [
        ("audrey", "site:campus-ave", {"entries": [1]}),
        ("audrey", "site:elsewhere", {"entries": []}),
    ]
    assert "case-000" not in json.dumps([(e.target, e.details) for e in made])
