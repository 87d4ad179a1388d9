"""SIGHUP: read the camera's YAML again and apply what can change while frames keep flowing.

Zones, rules, the pedestrian signal, calibration and redaction switch between two frames. The source, the
detector, MQTT, signing, the outbox and the camera's id or site are held by open connections and files: a change
there is logged as needing a restart and the running values stay, so the process never runs half of each."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from edge.pipeline import Pipeline
from models.config.camera import CameraConfig, load_camera_config
from models.errors import ConfigError

log = logging.getLogger(__name__)

LIVE_SECTIONS = ("zones", "rules", "signal", "calibration", "redaction")
RESTART_SECTIONS = ("source", "detector", "mqtt", "signing", "outbox")


@dataclass(frozen=True)
class ReloadPlan:
    config: CameraConfig
    """What the pipeline runs from now on: the new live sections, the running restart-only ones."""
    applied: list[str]
    needs_restart: list[str]


def plan_reload(running: CameraConfig, wanted: CameraConfig) -> ReloadPlan:
    """Split the differences between the running and the wanted config into those applied now and those that
    wait for a restart."""
    applied = [name for name in LIVE_SECTIONS if getattr(running, name) != getattr(wanted, name)]
    needs_restart = [name for name in RESTART_SECTIONS if getattr(running, name) != getattr(wanted, name)]
    identity = (running.camera.id, running.camera.site) != (wanted.camera.id, wanted.camera.site)
    if identity:
        needs_restart.insert(0, "camera.id/site")
    elif running.camera.name != wanted.camera.name:
        applied.append("camera.name")
    kept = {name: getattr(running, name) for name in RESTART_SECTIONS}
    if identity:
        kept["camera"] = running.camera
    return ReloadPlan(wanted.model_copy(update=kept), applied, needs_restart)


def reload_pipeline(path: str | Path, pipeline: Pipeline) -> bool:
    """Re-read `path` and apply it to `pipeline`; an invalid file is logged line by line and changes nothing.
    True when the new config was taken."""
    try:
        wanted = load_camera_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            log.error("%s: %s", exc.origin, problem)
        log.error("reload of %s refused: keeping the running config", path)
        return False
    plan = plan_reload(pipeline.config, wanted)
    if plan.needs_restart:
        log.warning(
            "%s: %s changed: not applied while running; restart the camera to use them",
            path,
            ", ".join(plan.needs_restart),
        )
    if plan.applied:
        pipeline.reconfigure(plan.config)
    log.info("reloaded config %s: %s", path, "applied " + ", ".join(plan.applied) if plan.applied else "no change")
    return True
