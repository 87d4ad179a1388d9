"""The words people read for an appeal's outcome, one pair everywhere: **granted** (the deduction is reversed)
and **refused** (the deduction stands). The stored appeal states and review actions keep their first names,
which name what happens to the deduction ("upheld" / "uphold": it stands; "reversed" / "reverse": it goes)."""

from __future__ import annotations

APPEAL_STATE_WORDS = {"open": "open", "reversed": "granted", "upheld": "refused"}
"""An appeal's stored state, as its badge reads."""
ACTION_WORDS = {"uphold": "appeal refused", "reverse": "appeal granted"}
"""A review action in an item's history, where its stored name would read the other way round."""


def appeal_state(state: str) -> str:
    return APPEAL_STATE_WORDS.get(state, state)


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action)
