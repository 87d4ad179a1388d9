"""Ed25519 message signing, a fixed contract outside tools rely on.

The signature is the base64 of the Ed25519 signature over the canonical JSON of the message without its
`signature` field: `json.dumps(msg, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` as UTF-8.
Keys: `CAMERA_ID.key` (PEM PKCS8, private) and `CAMERA_ID.pub` (PEM SubjectPublicKeyInfo)."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from models.base import IDENT_PATTERN
from models.errors import InputError

SIGNATURE_FIELD = "signature"
_IDENT = re.compile(IDENT_PATTERN)


class SigningKeyError(InputError, ValueError):
    """A key file that is missing, unreadable or not an Ed25519 key."""


def canonical_json(message: dict[str, Any]) -> bytes:
    """The exact bytes a signature covers: the message minus `signature`, keys sorted, no spaces, UTF-8."""
    body = {key: value for key, value in message.items() if key != SIGNATURE_FIELD}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(message: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """A copy of `message` with its `signature` field set."""
    signature = base64.b64encode(key.sign(canonical_json(message))).decode("ascii")
    return {**message, SIGNATURE_FIELD: signature}


def verify(message: dict[str, Any], key: Ed25519PublicKey) -> bool:
    """True when `message` carries a valid signature by `key`; False when it is absent, malformed or wrong."""
    signature = message.get(SIGNATURE_FIELD)
    if not isinstance(signature, str):
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        if base64.b64encode(raw).decode("ascii") != signature:
            return False  # the last character's unused bits can be set: one signature, many spellings
        key.verify(raw, canonical_json(message))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def generate_keypair(camera_id: str, out_dir: Path) -> tuple[Path, Path]:
    """Write `CAMERA_ID.key` (mode 0600) and `CAMERA_ID.pub` into `out_dir`; refuses to overwrite."""
    if not _IDENT.fullmatch(camera_id):
        raise SigningKeyError(f"camera id {camera_id!r} is not valid (letters, digits, '_' or '-', at most 64)")
    out_dir.mkdir(parents=True, exist_ok=True)
    private_path, public_path = out_dir / f"{camera_id}.key", out_dir / f"{camera_id}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise SigningKeyError(f"{path} already exists; remove it first to make a new key")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Created with 0600 from the start, so the private key is never readable by others, even briefly.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private_path, public_path


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"cannot read signing key {path}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path} is not a PEM PKCS8 private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as exc:
        raise SigningKeyError(f"cannot read public key {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SigningKeyError(f"{path} is not a PEM public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError(f"{path} is not an Ed25519 public key")
    return key


def load_public_keys(directory: Path) -> dict[str, Ed25519PublicKey]:
    """Every `*.pub` in `directory`, by camera id (the file name without `.pub`)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SigningKeyError(f"key directory {directory} does not exist")
    return {path.stem: load_public_key(path) for path in sorted(directory.glob("*.pub"))}
