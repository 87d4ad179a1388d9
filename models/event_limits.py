"""How long an event and the following of its item can last, read from the rules' own configuration bounds, so
central (which cannot import the edge) refuses a span no rule can produce and stays right when a bound moves.

- littering: an event spans from the item's first sighting to its report, and an item still there after
  `static.absorb_s` becomes background (edge/static_regions.py), so no littering event outlasts that setting's
  ceiling;
- jaywalking: a crossing is reported by `max_crossing_s` when it qualifies by then; one that qualifies later (a
  person standing still in the road who then walks on) is reported when it does, so the rule has no span of its
  own and is held to the longest span any rule can produce;
- an item is followed at most `follow_max_s` after its event (edge/item_follow.py); its statuses are counted
  from the event's start, so they may add the event's own span."""

from __future__ import annotations

from typing import Final, cast

from annotated_types import Le
from pydantic import BaseModel

from models.config.rules import JaywalkingConfig, LitteringConfig, StaticRegionConfig


def ceiling(model: type[BaseModel], field: str) -> float:
    """The largest value the configuration accepts for `model.field` (its `le` bound)."""
    bounds = [cast(float, item.le) for item in model.model_fields[field].metadata if isinstance(item, Le)]
    if not bounds:
        raise LookupError(f"{model.__name__}.{field} has no upper bound")
    return float(min(bounds))


MAX_EVENT_S: Final = max(ceiling(StaticRegionConfig, "absorb_s"), ceiling(JaywalkingConfig, "max_crossing_s"))
"""No rule reports an event lasting longer than this (ended_at - started_at)."""
MAX_FOLLOW_S: Final = MAX_EVENT_S + ceiling(LitteringConfig, "follow_max_s")
"""No item status comes later than this after its event's start (since_event_s)."""
