"""The camera file change a what-if proposes, for the operator to apply: central never writes camera files
from here, and the edge reads its thresholds only from its own file."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import yaml
from pydantic import ValidationError

from central.tuning.rejudge import RULES
from models.base import StrictModel
from models.errors import format_validation_error
from models.infraction import Scalar
from models.rule_catalogue import RULES as CATALOGUE

CONFIGS: dict[str, type[StrictModel]] = {entry.name: entry.config for entry in CATALOGUE}


def config_values(rule: str, unit: Scalar, proposed: Mapping[str, float]) -> dict[str, float]:
    """`proposed` (trace names) as the camera file's keys, checked against the file's own bounds; ValueError
    with one problem a line when a value is out of range."""
    knobs = {knob.threshold: knob for knob in RULES[rule].knobs}
    values = {knobs[name].config_key(unit): value for name, value in proposed.items()}
    try:
        CONFIGS[rule].model_validate(values)
    except ValidationError as exc:
        raise ValueError("\n".join(format_validation_error(exc, CONFIGS[rule]))) from None
    return values


def camera_yaml(
    *,
    site: str,
    camera: str,
    rule: str,
    unit: Scalar,
    current: Mapping[str, float],
    proposed: Mapping[str, float],
    by: str,
    at: datetime,
    events: int,
) -> str:
    """The changed thresholds as a `rules:` block to merge into the camera's file, with what they replace."""
    changed = {name: value for name, value in proposed.items() if current.get(name) != value}
    values = config_values(rule, unit, changed)
    knobs = {knob.threshold: knob for knob in RULES[rule].knobs}
    was = ", ".join(f"{knobs[name].config_key(unit)} {current.get(name)}" for name in changed) or "nothing changed"
    judged = f"{events} reviewed event" if events == 1 else f"{events} reviewed events"
    header = [
        f"# Proposed for camera {camera} (site {site}), rule {rule}: merge into that camera's file.",
        f"# From a what-if by {by} at {at:%Y-%m-%d %H:%M} UTC, re-judged on {judged}.",
        f"# Replaces: {was}.",
    ]
    body = yaml.safe_dump({"rules": {rule: values}}, sort_keys=True) if values else ""
    return "\n".join(header) + "\n" + body
