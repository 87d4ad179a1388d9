"""The evidence store's contract, held by both implementations: a local folder and an S3-compatible bucket on
a real server (moto in server mode, over HTTP)."""

import hashlib
import time

import pytest

from central.evidence_store import EvidenceError, EvidenceUnavailable, FolderEvidenceStore
from central.object_store import S3EvidenceStore
from central.object_store_settings import ObjectStoreSettings
from curbwatch.local_broker import free_port
from tests.object_store_kit import object_store, s3_endpoint, stored_keys  # noqa: F401  (fixtures)

DATA = b"\xff\xd8 a jpeg " * 10_000
DIGEST = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(params=["folder", "s3"])
def store(request, tmp_path):
    if request.param == "folder":
        return FolderEvidenceStore(tmp_path / "evidence")
    return S3EvidenceStore(request.getfixturevalue("object_store"))


def test_bytes_are_stored_under_their_digest_read_in_ranges_and_deleted(store):
    assert store.size(DIGEST) is None and not store.exists(DIGEST)
    store.put(DIGEST, DATA)
    store.put(DIGEST, DATA)  # a redelivery: nothing changes
    assert store.exists(DIGEST) and store.size(DIGEST) == len(DATA)
    assert b"".join(store.read(DIGEST, 0, len(DATA))) == DATA
    assert b"".join(store.read(DIGEST, 70_000, 70_010)) == DATA[70_000:70_010]
    assert b"".join(store.read(DIGEST, 5, 5)) == b""
    with pytest.raises(EvidenceError, match="hash to"):
        store.put("0" * 64, DATA)
    assert store.delete(DIGEST) and not store.exists(DIGEST)
    assert not store.delete(DIGEST)


@pytest.mark.parametrize("digest", ["../../etc/passwd", "AB" * 32, "ab" * 31])
def test_anything_but_a_digest_is_refused(store, digest):
    for call in (store.size, store.delete, lambda d: store.put(d, b"x")):
        with pytest.raises(EvidenceError, match="not a sha256"):
            call(digest)


def test_the_folder_layout_is_unchanged(tmp_path):
    FolderEvidenceStore(tmp_path).put(DIGEST, DATA)
    assert (tmp_path / DIGEST[:2] / DIGEST).read_bytes() == DATA


def test_the_bucket_mirrors_the_folder_layout_under_its_prefix(object_store):  # noqa: F811
    S3EvidenceStore(object_store).put(DIGEST, DATA)
    assert stored_keys(object_store) == [f"evidence/{DIGEST[:2]}/{DIGEST}"]
    S3EvidenceStore(object_store.model_copy(update={"prefix": ""})).put(DIGEST, DATA)
    assert stored_keys(object_store) == sorted([f"evidence/{DIGEST[:2]}/{DIGEST}", f"{DIGEST[:2]}/{DIGEST}"])


def test_an_unreachable_object_store_is_unavailable_not_empty():
    store = S3EvidenceStore(
        ObjectStoreSettings(bucket="cw-nowhere", endpoint_url=f"http://127.0.0.1:{free_port()}", region="us-east-1")
    )
    started = time.monotonic()
    for call in (store.size, lambda d: store.put(d, DATA)):
        with pytest.raises(EvidenceUnavailable, match="s3://cw-nowhere/evidence/"):
            call(DIGEST)
    assert time.monotonic() - started < 20
