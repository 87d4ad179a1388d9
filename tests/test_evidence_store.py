import hashlib

import pytest

from central.evidence_store import EvidenceError, EvidenceStore


def test_bytes_are_stored_under_their_digest_and_refused_under_another(tmp_path):
    store = EvidenceStore(tmp_path)
    data = b"\xff\xd8 a jpeg"
    digest = hashlib.sha256(data).hexdigest()
    path = store.put(digest, data)
    assert path.read_bytes() == data and store.exists(digest)
    with pytest.raises(EvidenceError, match="hash to"):
        store.put("0" * 64, data)
    assert store.delete(digest) and not store.exists(digest)


def test_path_traversal_is_refused(tmp_path):
    with pytest.raises(EvidenceError, match="not a sha256"):
        EvidenceStore(tmp_path).path("../../etc/passwd")
