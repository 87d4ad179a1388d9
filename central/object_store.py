"""Evidence in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW) through boto3, so that every central host
stores into and serves from the same place, and retention purges what all of them received.

boto3 is imported here only: a camera box and a single-host central never need it (`pip install
curbwatch[s3]`)."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator

from central.evidence_store import CHUNK_BYTES, EvidenceStore, EvidenceUnavailable, key_of
from central.object_store_settings import ObjectStoreSettings

log = logging.getLogger(__name__)
_ABSENT = {"404", "NoSuchKey", "NotFound"}


class S3EvidenceStore(EvidenceStore):
    def __init__(self, settings: ObjectStoreSettings) -> None:
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError as exc:
            raise ValueError("object_store needs boto3: pip install 'curbwatch[s3]'") from exc
        self.bucket, self.prefix = settings.bucket, settings.prefix
        self._endpoint = settings.endpoint_url or "AWS S3"
        self._errors = (BotoCoreError, ClientError)
        config = Config(
            connect_timeout=settings.timeout_s,
            read_timeout=settings.timeout_s,
            retries={"mode": "standard", "max_attempts": 3},
            s3={"addressing_style": "path" if settings.path_style else "auto"},
            # Newer botocore adds CRC checksums that several S3-compatible servers refuse; each upload carries
            # Content-MD5 instead, which all of them check.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        # A client, unlike a boto3 session, may be shared by the console's threads.
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=settings.endpoint_url,
            region_name=settings.region,
            aws_access_key_id=settings.access_key_id,
            aws_secret_access_key=settings.secret_access_key(),
            config=config,
        )

    def _key(self, sha256: str) -> str:
        return self.prefix + key_of(sha256)

    def _unavailable(self, exc: Exception, doing: str) -> EvidenceUnavailable:
        return EvidenceUnavailable(f"object store {self.describe()}: {doing} failed: {exc}")

    @staticmethod
    def _is_absent(exc: Exception) -> bool:
        error = getattr(exc, "response", {}).get("Error", {})
        return str(error.get("Code")) in _ABSENT

    def _write(self, key: str, data: bytes) -> None:
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        try:
            # One PUT is atomic in S3: a reader never sees part of an object.
            self.client.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentMD5=md5)
        except self._errors as exc:
            raise self._unavailable(exc, f"storing {key}") from exc

    def size(self, sha256: str) -> int | None:
        key = self._key(sha256)
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except self._errors as exc:
            if self._is_absent(exc):
                return None
            raise self._unavailable(exc, f"looking up {key}") from exc

    def read(self, sha256: str, start: int, stop: int) -> Iterator[bytes]:
        if stop <= start:
            return
        key = self._key(sha256)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{stop - 1}")["Body"]
        except self._errors as exc:
            raise self._unavailable(exc, f"reading {key}") from exc
        with body:
            yield from body.iter_chunks(CHUNK_BYTES)

    def delete(self, sha256: str) -> bool:
        # S3 answers a delete of a missing key with success too; the look-up tells the purge log the truth.
        if self.size(sha256) is None:
            return False
        key = self._key(sha256)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except self._errors as exc:
            raise self._unavailable(exc, f"deleting {key}") from exc
        return True

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix} at {self._endpoint}"
