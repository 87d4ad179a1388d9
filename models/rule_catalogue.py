"""The one list of rules. Every other list of rules (message types, scoring, queue filters, the Rules page,
the zone editor's switches, the what-if's config models) is read from here, so adding a rule means one entry
here beside its module in edge/rules/ and its config model (docs/adding-a-rule.md).

`InfractionType` is spelt out as a Literal because type checkers need the names before the program runs;
the check at the bottom keeps it and the catalogue the same list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from models.base import StrictModel
from models.config.rules import JaywalkingConfig, LitteringConfig
from models.config.zones import ZoneKind

InfractionType = Literal["jaywalking", "littering"]


@dataclass(frozen=True)
class RuleEntry:
    name: InfractionType
    """The event's `type`, the rule's key under `rules:` in a camera file and its name in rule traces."""
    config: type[StrictModel]
    """The thresholds a camera file holds for it, under `rules.<name>`."""
    zone_kinds: tuple[ZoneKind, ...]
    """The zone kinds it watches; the first is the one it needs to run at all."""
    follows_item: bool
    """The event is about an object left behind, which the edge keeps reporting on (the console shows its life)."""

    @property
    def on_by_default(self) -> bool:
        """Whether a camera file that does not name the rule runs it: its config model's `enabled` default."""
        return bool(self.config.model_fields["enabled"].default)


RULES: tuple[RuleEntry, ...] = (
    RuleEntry(
        name="jaywalking",
        config=JaywalkingConfig,
        zone_kinds=("roadway", "crosswalk"),
        follows_item=False,
    ),
    RuleEntry(
        name="littering",
        config=LitteringConfig,
        zone_kinds=("litter_watch",),
        follows_item=True,
    ),
)
RULE_NAMES: tuple[InfractionType, ...] = tuple(entry.name for entry in RULES)
BY_NAME: dict[str, RuleEntry] = {entry.name: entry for entry in RULES}
ITEM_RULES: tuple[str, ...] = tuple(entry.name for entry in RULES if entry.follows_item)
"""The rules whose events the console shows with the item's life (Litter page, the item's statuses)."""

if get_args(InfractionType) != RULE_NAMES:  # pragma: no cover - a maintainer's slip, caught on import
    raise RuntimeError(f"InfractionType {get_args(InfractionType)} and the catalogue {RULE_NAMES} differ")
