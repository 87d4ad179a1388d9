"""`curbwatch edge ...`: replay recorded video, or run a camera unattended."""

from __future__ import annotations

import click

from curbwatch.cliutil import load_config_or_exit, not_implemented


@click.group("edge")
def edge() -> None:
    """The edge process that runs beside a camera."""


@edge.command("replay")
@click.argument("video", type=click.Path(dir_okay=False))
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False), help="Camera YAML.")
@click.option("--model", type=click.Path(), help="Detector weights; overrides detector.model.")
@click.option("--events-out", type=click.Path(dir_okay=False), help="Write each infraction message as a JSON line.")
@click.option("--evidence-dir", type=click.Path(file_okay=False), help="Where redacted evidence files go.")
@click.option("--annotate", type=click.Path(dir_okay=False), help="Write an annotated video here.")
@click.option("--publish/--no-publish", default=False, show_default=True, help="Publish events over MQTT.")
@click.option("--broker", help="Broker URL; overrides mqtt.url.")
def replay(video: str, config_file: str, **_options: object) -> None:
    """Replay VIDEO through the pipeline as fast as possible and report its infractions."""
    load_config_or_exit(config_file)
    not_implemented("edge replay")


@edge.command("run")
@click.option("--config", "config_file", required=True, type=click.Path(dir_okay=False), help="Camera YAML.")
def run(config_file: str) -> None:
    """Watch the configured source until stopped, publishing infractions."""
    load_config_or_exit(config_file)
    not_implemented("edge run")
