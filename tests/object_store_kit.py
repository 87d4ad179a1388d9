"""A real S3-compatible server for the tests: moto in server mode on a free local port, spoken to over HTTP by
boto3 exactly as central speaks to MinIO or AWS. Each test gets a bucket of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

from central.object_store_settings import ObjectStoreSettings
from curbwatch.local_broker import free_port

ACCESS_KEY_ID = "curbwatch-test"
SECRET = "not-a-real-secret-0123456789"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET,
    )


@pytest.fixture
def object_store(s3_endpoint: str, tmp_path: Path) -> ObjectStoreSettings:
    """A fresh bucket, and the settings that reach it with a key id and a secret in a file."""
    bucket = f"cw-{uuid.uuid4().hex[:16]}"
    s3_client(s3_endpoint).create_bucket(Bucket=bucket)
    secret_file = tmp_path / "s3-secret"
    secret_file.write_text(SECRET + "\n")
    return ObjectStoreSettings(
        bucket=bucket,
        endpoint_url=s3_endpoint,
        region=REGION,
        path_style=True,
        access_key_id=ACCESS_KEY_ID,
        secret_access_key_file=secret_file,
    )


def stored_keys(settings: ObjectStoreSettings) -> list[str]:
    assert settings.endpoint_url is not None
    listing = s3_client(settings.endpoint_url).list_objects_v2(Bucket=settings.bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def settings_file(path: Path, settings: ObjectStoreSettings, **central: object) -> Path:
    """A central settings YAML whose evidence goes to `settings`' bucket."""
    path.write_text(yaml.safe_dump({"object_store": settings.model_dump(mode="json", exclude_none=True), **central}))
    return path
