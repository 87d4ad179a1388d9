"""Settings of the S3-compatible object store that keeps evidence when several central hosts share it. The
secret key stays in its own file (or in the environment): these settings hold only where to find it, so
printing or auditing them never reveals it."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from models.base import StrictModel

BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
PREFIX_PATTERN = r"^([A-Za-z0-9._-]+/)*$"


class ObjectStoreSettings(StrictModel):
    bucket: str = Field(
        ..., pattern=BUCKET_PATTERN, description="Bucket the evidence goes to; it must exist (central never makes one)."
    )
    endpoint_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        max_length=500,
        description="URL of an S3-compatible service (MinIO, Ceph RGW, ...); default AWS S3 in `region`.",
    )
    region: str | None = Field(None, max_length=50, description="Region name; default from the environment.")
    prefix: str = Field(
        "evidence/",
        pattern=PREFIX_PATTERN,
        max_length=200,
        description="Key prefix: evidence `D` is stored as PREFIX + D[:2] + '/' + D. Empty, or ending in '/'.",
    )
    path_style: bool = Field(
        False,
        description="Name the bucket in the URL path rather than the host name (MinIO or Ceph without wildcard DNS).",
    )
    access_key_id: str | None = Field(
        None,
        max_length=200,
        description="Access key id; with `secret_access_key_file`. Without both, the AWS client's own chain is "
        "used: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment, a shared credentials file, or the "
        "host's role.",
    )
    secret_access_key_file: Path | None = Field(
        None, description="File whose first line is the secret access key; keep it readable by central alone."
    )
    timeout_s: float = Field(
        10.0, ge=1.0, le=300.0, description="Connect and read timeout of one request to the object store."
    )

    @model_validator(mode="after")
    def _key_pair(self) -> ObjectStoreSettings:
        if (self.access_key_id is None) != (self.secret_access_key_file is None):
            raise ValueError("access_key_id and secret_access_key_file go together: give both or neither")
        return self

    def secret_access_key(self) -> str | None:
        """The secret from its file, read only when the store opens."""
        if self.secret_access_key_file is None:
            return None
        try:
            lines = self.secret_access_key_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"object_store.secret_access_key_file: cannot read: {exc.strerror or exc}") from exc
        if not lines or not lines[0].strip():
            raise ValueError("object_store.secret_access_key_file: the first line is empty")
        return lines[0].strip()
