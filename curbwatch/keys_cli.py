"""`curbwatch keys ...`: per-camera Ed25519 signing keys."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("keys")
def keys() -> None:
    """Make the Ed25519 keys a camera signs its messages with."""


@keys.command("new")
@click.argument("camera_id")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Folder for the key pair.")
def new(camera_id: str, out_dir: str) -> None:
    """Write OUT/CAMERA_ID.key (private, mode 0600) and OUT/CAMERA_ID.pub (for central's --keys folder)."""
    from models.signing import generate_keypair

    private_path, public_path = generate_keypair(camera_id, Path(out_dir))
    click.echo(f"private key: {private_path}")
    click.echo(f"public key:  {public_path}")
