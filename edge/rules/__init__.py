"""The infraction rules (DESIGN.md section 3) and how a camera's configuration selects them.

How the pipeline drives them:
- call `rule.update(sample)` for every processed frame in source order (frames the detector skipped may be
  passed with `detected=False`; they never count as "the person left"), and `rule.finish()` at the end;
- put the pedestrian signal's phase for that frame in `sample.signal_phase` ("walk", "dont_walk" or None),
  read with the frame so a lamp signal can see it. A `JaywalkingRule` built by hand with a `signal` asks it
  when the sample carries no phase (without a frame, which suits fixed-time and MQTT signals);
- fill `sample.static_items` from `edge.static_regions.StaticRegionDetector` for the littering rule.
"""

from __future__ import annotations

from edge.rules.base import Rule, RuleHit
from edge.rules.jaywalking import JaywalkingRule
from edge.rules.littering import LitteringRule
from models.config.camera import CameraConfig

__all__ = ["RULES", "JaywalkingRule", "LitteringRule", "Rule", "RuleHit", "build_rules"]

RULES: tuple[type[Rule], ...] = (JaywalkingRule, LitteringRule)
"""Every rule, in the order the pipeline runs them."""


def build_rules(config: CameraConfig) -> list[Rule]:
    """The camera's enabled rules."""
    return [rule.build(config) for rule in RULES if rule.enabled(config)]
