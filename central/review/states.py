"""The review state machine, pure: every state an infraction can be in and every legal move between them.

    pending          --claim, reassign-->   in_review
    in_review        --release, expire-->   pending
    in_review        --confirm-->           confirmed  (takes effect: a deduction is written if a subject is named)
    in_review        --refer-->             awaiting_second
    in_review        --reject-->            rejected
    awaiting_second  --claim, reassign-->   second_review   (a different reviewer than the first)
    second_review    --release, expire-->   awaiting_second
    second_review    --confirm / reject-->  confirmed / rejected
    confirmed        --appeal-->            appealed  --uphold-->  confirmed,  --reverse-->  reversed (final)
    awaiting_second, confirmed, rejected  --reopen (supervisor)-->  pending

`refer` is a first confirmation that needs a second, different reviewer before it takes effect.
Who may make a move (claim holder, a different reviewer, a supervisor) is checked by the service."""

from __future__ import annotations

from enum import StrEnum

from central.review.errors import ReviewError


class State(StrEnum):
    PENDING = "pending"
    IN_REVIEW = "in_review"
    AWAITING_SECOND = "awaiting_second"
    SECOND_REVIEW = "second_review"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    APPEALED = "appealed"
    REVERSED = "reversed"


class Action(StrEnum):
    CLAIM = "claim"
    RELEASE = "release"
    EXPIRE = "expire"
    CONFIRM = "confirm"
    REFER = "refer"
    REJECT = "reject"
    REASSIGN = "reassign"
    REOPEN = "reopen"
    APPEAL = "appeal"
    UPHOLD = "uphold"
    REVERSE = "reverse"


TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.PENDING, Action.CLAIM): State.IN_REVIEW,
    (State.PENDING, Action.REASSIGN): State.IN_REVIEW,
    (State.IN_REVIEW, Action.RELEASE): State.PENDING,
    (State.IN_REVIEW, Action.EXPIRE): State.PENDING,
    (State.IN_REVIEW, Action.CONFIRM): State.CONFIRMED,
    (State.IN_REVIEW, Action.REFER): State.AWAITING_SECOND,
    (State.IN_REVIEW, Action.REJECT): State.REJECTED,
    (State.IN_REVIEW, Action.REASSIGN): State.IN_REVIEW,
    (State.AWAITING_SECOND, Action.CLAIM): State.SECOND_REVIEW,
    (State.AWAITING_SECOND, Action.REASSIGN): State.SECOND_REVIEW,
    (State.AWAITING_SECOND, Action.REOPEN): State.PENDING,
    (State.SECOND_REVIEW, Action.RELEASE): State.AWAITING_SECOND,
    (State.SECOND_REVIEW, Action.EXPIRE): State.AWAITING_SECOND,
    (State.SECOND_REVIEW, Action.CONFIRM): State.CONFIRMED,
    (State.SECOND_REVIEW, Action.REJECT): State.REJECTED,
    (State.SECOND_REVIEW, Action.REASSIGN): State.SECOND_REVIEW,
    (State.CONFIRMED, Action.APPEAL): State.APPEALED,
    (State.CONFIRMED, Action.REOPEN): State.PENDING,
    (State.REJECTED, Action.REOPEN): State.PENDING,
    (State.APPEALED, Action.UPHOLD): State.CONFIRMED,
    (State.APPEALED, Action.REVERSE): State.REVERSED,
}

CLAIMED = frozenset({State.IN_REVIEW, State.SECOND_REVIEW})
"""States in which one reviewer holds an expiring claim."""

DECIDED = frozenset({State.CONFIRMED, State.REJECTED, State.APPEALED, State.REVERSED})


class IllegalTransition(ReviewError):
    """A move the state machine does not allow from the item's current state."""

    def __init__(self, state: State, action: Action) -> None:
        self.state = state
        self.action = action
        allowed = allowed_actions(state)
        hint = f"allowed: {', '.join(allowed)}" if allowed else f"{state} is final"
        super().__init__(f"cannot {action} an item that is {state} ({hint})")


def allowed_actions(state: State) -> list[str]:
    return [action.value for (origin, action) in TRANSITIONS if origin == state]


def transition(state: State | str, action: Action | str) -> State:
    """The state after `action`, or IllegalTransition naming the state and the action."""
    state, action = State(state), Action(action)
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None
