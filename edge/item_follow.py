"""Litter followed until it is cleaned up: after a littering event, what becomes of its item.

The static-region detector keeps a followed item (it pins it: never absorbed into the background, and held
`follow_grace_s` after its place stops showing it while nobody hides it), so here an item that is gone from the
detector's list has been removed; it was last seen there at its `last_seen_t`. While it stays, `still_there` is
reported every `follow_report_s`, only when it was seen lately (not while someone stands over it). When the
detector's backgrounds start over (camera moved, whole scene changed), its zones change, or `follow_max_s` has
passed, the edge no longer knows: `unknown`, and the item is no longer followed.

Pure bookkeeping on `StaticItem` lists and source times: no pixels, no clock, and nothing about people (who
took the item away is not looked at)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from edge.boxes import Box
from edge.samples import StaticItem
from models.config.rules import LitteringConfig
from models.item_status import ItemState


@dataclass(frozen=True)
class ItemObservation:
    """One thing to report about a followed item; `t` is source seconds, `since_event_s` from the drop."""

    event_id: uuid.UUID
    state: ItemState
    t: float
    since_event_s: float
    box: Box


@dataclass
class _Followed:
    event_id: uuid.UUID
    item_id: int
    event_t: float
    """When the event started (the item appeared)."""
    box: Box
    last_seen_t: float
    reported_t: float
    """When still_there was last reported, or the event fired."""


class ItemFollower:
    def __init__(self, report_s: float, grace_s: float, max_s: float) -> None:
        self.report_s, self.grace_s, self.max_s = report_s, grace_s, max_s
        self._followed: dict[int, _Followed] = {}

    @classmethod
    def from_config(cls, config: LitteringConfig) -> ItemFollower:
        return cls(config.follow_report_s, config.follow_grace_s, config.follow_max_s)

    @property
    def item_ids(self) -> frozenset[int]:
        """The static items the detector must keep for us."""
        return frozenset(self._followed)

    def follow(self, event_id: uuid.UUID, item_id: int, box: Box, event_t: float, seen_t: float) -> None:
        """Start following the item of a littering event that fired at `seen_t` (the item was there then)."""
        self._followed[item_id] = _Followed(event_id, item_id, event_t, box, seen_t, seen_t)

    def update(self, t: float, items: Iterable[StaticItem]) -> list[ItemObservation]:
        """What to report after the detector's update at source time `t`, listing `items`."""
        present = {item.item_id: item for item in items}
        out: list[ItemObservation] = []
        for followed in list(self._followed.values()):
            item = present.get(followed.item_id)
            if item is None:
                out.append(self._end(followed, "removed", followed.last_seen_t))
                continue
            followed.box = item.box
            followed.last_seen_t = max(followed.last_seen_t, t if item.last_seen_t is None else item.last_seen_t)
            if t - followed.event_t >= self.max_s:
                out.append(self._end(followed, "unknown", t))
            elif t - followed.reported_t >= self.report_s and t - followed.last_seen_t <= self.grace_s:
                followed.reported_t = t
                out.append(self._observe(followed, "still_there", followed.last_seen_t))
        return out

    def reset(self, t: float) -> list[ItemObservation]:
        """The detector started over (or was replaced): every followed item becomes unknown at `t`."""
        return [self._end(followed, "unknown", t) for followed in list(self._followed.values())]

    def finish(self) -> list[ItemObservation]:
        """End of the stream: each followed item as last seen; after this nothing more is known of it."""
        out = [self._observe(f, "still_there", f.last_seen_t) for f in self._followed.values()]
        self._followed.clear()
        return out

    def _end(self, followed: _Followed, state: ItemState, t: float) -> ItemObservation:
        del self._followed[followed.item_id]
        return self._observe(followed, state, t)

    @staticmethod
    def _observe(followed: _Followed, state: ItemState, t: float) -> ItemObservation:
        return ItemObservation(followed.event_id, state, t, max(0.0, t - followed.event_t), followed.box)
