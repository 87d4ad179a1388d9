"""The review state machine: every legal move lands where the table says, every other pair of state and
action is refused with a message naming both."""

import pytest

from central.review.errors import ReviewError
from central.review.states import TRANSITIONS, Action, IllegalTransition, State, allowed_actions, transition

ILLEGAL = [(s, a) for s in State for a in Action if (s, a) not in TRANSITIONS]


@pytest.mark.parametrize(("state", "action"), list(TRANSITIONS), ids=lambda v: v.value)
def test_every_legal_move_lands_in_its_target(state, action):
    assert transition(state, action) == TRANSITIONS[(state, action)]
    assert transition(state.value, action.value) == TRANSITIONS[(state, action)]


@pytest.mark.parametrize(("state", "action"), ILLEGAL, ids=lambda v: v.value)
def test_every_illegal_move_is_refused_naming_state_and_action(state, action):
    with pytest.raises(IllegalTransition) as caught:
        transition(state, action)
    message = str(caught.value)
    assert f"cannot {action.value} an item that is {state.value}" in message
    assert isinstance(caught.value, ReviewError)
    assert caught.value.state == state and caught.value.action == action


def test_the_table_covers_the_whole_product_of_states_and_actions():
    assert len(ILLEGAL) + len(TRANSITIONS) == len(State) * len(Action)
    assert len(ILLEGAL) > 60


def test_reversed_is_final_and_says_so():
    assert allowed_actions(State.REVERSED) == []
    with pytest.raises(IllegalTransition, match="reversed is final"):
        transition(State.REVERSED, Action.REOPEN)


def test_refusal_lists_what_is_allowed():
    with pytest.raises(IllegalTransition, match=r"allowed: claim, reassign"):
        transition(State.PENDING, Action.CONFIRM)


def test_nothing_decides_an_unclaimed_item():
    for action in (Action.CONFIRM, Action.REFER, Action.REJECT):
        for state in (State.PENDING, State.AWAITING_SECOND, State.CONFIRMED, State.REJECTED):
            with pytest.raises(IllegalTransition):
                transition(state, action)


def test_a_referral_cannot_be_referred_again():
    with pytest.raises(IllegalTransition):
        transition(State.SECOND_REVIEW, Action.REFER)


def test_every_state_is_reachable_from_pending():
    seen, frontier = {State.PENDING}, [State.PENDING]
    while frontier:
        state = frontier.pop()
        for (origin, _action), target in TRANSITIONS.items():
            if origin == state and target not in seen:
                seen.add(target)
                frontier.append(target)
    assert seen == set(State)


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError):
        transition("limbo", "claim")
    with pytest.raises(ValueError):
        transition("pending", "approve")
