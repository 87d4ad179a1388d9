"""The whole path with real parts: footage -> detector -> rules -> redacted evidence -> signed outbox ->
Mosquitto -> central worker -> database, where each event waits for review with its evidence."""

import json

import yaml

from curbwatch.local_broker import LocalBroker
from tests.conftest import ROOT, run_cli, shared_file
from tests.transport_kit import Db, make_camera, migrate, start_worker, stop, wait_subscribed


def test_replayed_jaywalking_reaches_the_review_queue_with_its_evidence(tmp_path, model_path):
    video = shared_file("media", "jay_intersection_crosswalk.mp4")
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    migrate(db_url)
    with LocalBroker(tmp_path / "broker") as broker:
        camera = yaml.safe_load(make_camera(tmp_path, "intersection-01", broker.url).read_text())
        example = yaml.safe_load((ROOT / "examples" / "jay_intersection_crosswalk.yaml").read_text())
        config = tmp_path / "camera.yaml"
        config.write_text(yaml.safe_dump({**example, **{k: camera[k] for k in ("mqtt", "signing", "outbox")}}))
        worker = start_worker(tmp_path, db_url, broker.url)
        try:
            wait_subscribed(tmp_path)
            replay = run_cli(
                "edge", "replay", str(video), "--config", str(config), "--model", str(model_path),
                "--events-out", str(tmp_path / "events.jsonl"), "--evidence-dir", str(tmp_path / "evidence"),
                "--publish", timeout=300,
            )  # fmt: skip
            assert replay.returncode == 0, replay.stderr[-2000:]
            sent = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
            assert sent, "the clip's jaywalking produced no event"
            db = Db(db_url)
            evidence_count = sum(len(event["evidence"]) for event in sent)
            assert db.wait_for(lambda d: d.count() == len(sent) and d.linked_evidence() == evidence_count)
            db.close()
        finally:
            assert stop(worker) == 0
    listed = run_cli("central", "list", "--db", db_url, "--json")
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert {row["event_id"] for row in rows} == {event["event_id"] for event in sent}
    for row in rows:
        assert row["review_state"] == "pending"
        assert row["redacted"] is True and row["signature"]
        assert {item["role"] for item in row["evidence"]} == {"keyframe", "clip"}
        for item in row["evidence"]:
            stored = tmp_path / "central-data" / "evidence" / item["sha256"][:2] / item["sha256"]
            assert stored.is_file(), f"evidence {item['sha256']} was not stored centrally"
