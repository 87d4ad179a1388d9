"""Evidence in an S3-compatible object store (moto in server mode over HTTP): chosen in central's settings,
served by the console with the same audit and media-type checks, purged through it by retention."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import yaml

from central.db import make_engine, session_factory
from central.evidence_store import FolderEvidenceStore
from central.object_store import S3EvidenceStore
from central.settings import CentralSettings, load_settings
from models.errors import ConfigError
from tests.conftest import run_cli
from tests.console_support import cut_evidence, make_central, seed, serve
from tests.object_store_kit import object_store, s3_endpoint, settings_file, stored_keys  # noqa: F401
from tests.test_console_hardening import bearer, views
from tests.test_retention import scenario


def test_the_folder_stays_the_default_and_the_object_store_is_chosen_in_the_settings(tmp_path, object_store):  # noqa: F811
    default = CentralSettings(data_dir=tmp_path)
    assert default.object_store is None
    assert isinstance(default.open_evidence(), FolderEvidenceStore)
    assert default.open_evidence().root == tmp_path / "evidence"
    chosen = load_settings(settings_file(tmp_path / "central.yaml", object_store))
    store = chosen.open_evidence(tmp_path / "ignored")
    assert isinstance(store, S3EvidenceStore)
    assert store.describe() == f"s3://{object_store.bucket}/evidence/ at {object_store.endpoint_url}"
    # The settings hold where the secret is, never the secret itself.
    assert "not-a-real-secret" not in repr(chosen) + str(chosen.model_dump())


@pytest.mark.parametrize(
    ("object_store_yaml", "problem"),
    [
        ({"endpoint_url": "http://127.0.0.1:9000"}, "object_store.bucket: required key is missing"),
        ({"bucket": "Bad_Bucket"}, "object_store.bucket: must match pattern"),
        ({"bucket": "evidence", "access_key_id": "id"}, "object_store: access_key_id and secret_access_key_file go"),
        ({"bucket": "evidence", "endpoint": "http://x"}, "endpoint: unknown key (did you mean 'endpoint_url'"),
        ({"bucket": "evidence", "prefix": "/abs"}, "object_store.prefix: must match pattern"),
    ],
)
def test_object_store_settings_are_checked(tmp_path, object_store_yaml, problem):
    path = tmp_path / "central.yaml"
    path.write_text(yaml.safe_dump({"object_store": object_store_yaml}))
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert any(problem in line for line in caught.value.problems), caught.value.problems


def test_a_missing_secret_file_is_named_and_not_guessed(tmp_path, object_store):  # noqa: F811
    settings = CentralSettings(object_store=object_store.model_copy(update={"secret_access_key_file": tmp_path / "no"}))
    with pytest.raises(ValueError, match=r"object_store\.secret_access_key_file: cannot read"):
        settings.open_evidence()


def test_the_console_streams_evidence_from_the_object_store_with_audit_and_ranges(tmp_path, object_store):  # noqa: F811
    central = make_central(f"sqlite:///{tmp_path / 'central.db'}", tmp_path)
    central = replace(central, store=S3EvidenceStore(object_store))
    evidence = cut_evidence(frames=8)
    event_id = seed(central, evidence, kind="littering")
    assert not (tmp_path / "evidence").exists() and len(stored_keys(object_store)) == 3
    with serve(central) as base, httpx.Client(base_url=base, timeout=30) as client:
        audrey = bearer(client, "audrey")
        refs = client.get(f"/api/v1/infractions/{event_id}", headers=audrey).json()["evidence"]
        clip = next(ref for ref in refs if ref["role"] == "clip")
        whole = client.get(clip["url"], headers=audrey)
        assert whole.status_code == 200 and whole.content == evidence.clip
        assert whole.headers["content-type"] == "video/webm" and whole.headers["cache-control"] == "private, no-store"
        assert [d["sha256"] for d in views(central, "audrey")] == [clip["sha256"]]
        part = client.get(clip["url"], headers={**audrey, "Range": "bytes=100-199"})
        assert part.status_code == 206 and part.content == evidence.clip[100:200]
        assert part.headers["content-range"] == f"bytes 100-199/{len(evidence.clip)}"
        assert len(views(central, "audrey")) == 1  # a range within the viewing
        outside = client.get(clip["url"], headers={**audrey, "Range": f"bytes={len(evidence.clip)}-"})
        assert outside.status_code == 416 and outside.headers["content-range"] == f"bytes */{len(evidence.clip)}"
        keyframe = next(ref for ref in refs if ref["role"] == "keyframe")
        image = client.get(keyframe["url"], headers={**audrey, "Range": "bytes=-10"})
        assert image.status_code == 206 and image.content == evidence.keyframes[0][-10:]
        assert image.headers["content-type"] == "image/jpeg"
        assert len(views(central, "audrey")) == 2  # another file's first range is a view of its own


def test_retention_purges_through_the_object_store(tmp_path, object_store):  # noqa: F811
    db_url = f"sqlite:///{tmp_path / 'central.db'}"
    assert run_cli("central", "migrate", "--db", db_url).returncode == 0
    store = S3EvidenceStore(object_store)
    engine = make_engine(db_url)
    blobs = scenario(session_factory(engine), store, at=datetime.now(UTC) - timedelta(days=45))
    engine.dispose()
    config = settings_file(tmp_path / "central.yaml", object_store, retention_rejected_days=10, appeal_window_days=30)
    real = run_cli("central", "purge", "--db", db_url, "--settings", str(config))
    assert real.returncode == 0, real.stderr
    assert "2 evidence files purged" in real.stdout
    assert not store.exists(blobs["rejected"]) and not store.exists(blobs["confirmed"])
    assert store.exists(blobs["pending"]) and store.exists(blobs["shared"])
    assert len(stored_keys(object_store)) == 2
