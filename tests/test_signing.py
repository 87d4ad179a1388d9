"""The signing contract outside tools rely on, checked with an independent implementation of it."""

import base64
import json
import stat

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from models.signing import load_public_keys, sign, verify
from tests.conftest import run_cli


def test_keys_new_writes_the_contracted_files(tmp_path):
    result = run_cli("keys", "new", "cam7", "--out", str(tmp_path / "k"))
    assert result.returncode == 0, result.stderr
    private_path, public_path = tmp_path / "k" / "cam7.key", tmp_path / "k" / "cam7.pub"
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert private_path.read_text().startswith("-----BEGIN PRIVATE KEY-----")  # PKCS8
    assert public_path.read_text().startswith("-----BEGIN PUBLIC KEY-----")  # SubjectPublicKeyInfo
    private = serialization.load_pem_private_key(private_path.read_bytes(), password=None)
    public = serialization.load_pem_public_key(public_path.read_bytes())
    assert isinstance(private, Ed25519PrivateKey) and isinstance(public, Ed25519PublicKey)

    message = {"event_id": "e1", "camera_id": "cam7", "zone": "Straße", "confidence": 0.5, "signature": None}
    # An outside tool signs exactly as the contract says; our verifier must accept it.
    canonical = json.dumps(
        {k: v for k, v in message.items() if k != "signature"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")
    signed = {**message, "signature": base64.b64encode(private.sign(canonical)).decode()}
    assert verify(signed, load_public_keys(tmp_path / "k")["cam7"])
    # And what we sign, an outside tool verifies.
    ours = sign(message, private)
    public.verify(base64.b64decode(ours["signature"]), canonical)


def test_keys_new_refuses_to_overwrite_and_bad_ids(tmp_path):
    assert run_cli("keys", "new", "cam7", "--out", str(tmp_path)).returncode == 0
    again = run_cli("keys", "new", "cam7", "--out", str(tmp_path))
    assert again.returncode == 1 and "already exists" in again.stderr and "Traceback" not in again.stderr
    bad = run_cli("keys", "new", "../evil", "--out", str(tmp_path))
    assert bad.returncode == 1 and "not valid" in bad.stderr


def test_tampering_or_another_key_fails_verification():
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    signed = sign({"camera_id": "cam1", "confidence": 0.9}, key)
    assert verify(signed, key.public_key())
    assert not verify({**signed, "confidence": 0.91}, key.public_key())
    assert not verify(signed, other.public_key())
    assert not verify({**signed, "signature": "not base64!"}, key.public_key())
    assert not verify({"camera_id": "cam1", "confidence": 0.9}, key.public_key())
