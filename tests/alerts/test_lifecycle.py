"""Every (state, event) pair of the alert lifecycle: allowed moves land where the table says, others raise."""

from __future__ import annotations

import itertools

import pytest

from alerts.lifecycle import AlertEvent, IllegalTransition, is_allowed, transition
from hypervision.domain import AlertState

P, F, A, R = AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED, AlertState.RESOLVED
E = AlertEvent

# The expected table, written out independently of alerts.lifecycle.TRANSITIONS.
EXPECTED = {
    (None, E.PEND): P,
    (None, E.FIRE): F,
    (P, E.FIRE): F,
    (P, E.RESOLVE): R,
    (F, E.UPDATE): F,
    (F, E.ESCALATE): F,
    (F, E.RENOTIFY): F,
    (F, E.ACK): A,
    (F, E.RESOLVE): R,
    (A, E.UPDATE): A,
    (A, E.ESCALATE): A,
    (A, E.RENOTIFY): A,
    (A, E.RESOLVE): R,
}
ALL_PAIRS = list(itertools.product([None, *AlertState], list(AlertEvent)))


@pytest.mark.parametrize(("state", "event"), ALL_PAIRS, ids=lambda x: str(x))
def test_every_state_event_pair(state: AlertState | None, event: AlertEvent) -> None:
    expected = EXPECTED.get((state, event))
    if expected is None:
        with pytest.raises(IllegalTransition) as info:
            transition(state, event)
        assert info.value.state == state and info.value.event == event
        assert event.value in str(info.value)
        assert not is_allowed(state, event)
    else:
        assert transition(state, event) == expected
        assert is_allowed(state, event)


def test_table_covers_all_pairs_once() -> None:
    assert len(ALL_PAIRS) == 5 * 7
    assert sum(is_allowed(s, e) for s, e in ALL_PAIRS) == len(EXPECTED)


def test_resolved_is_terminal() -> None:
    for event in AlertEvent:
        with pytest.raises(IllegalTransition):
            transition(R, event)


def test_pending_cannot_be_acknowledged() -> None:
    with pytest.raises(IllegalTransition, match="pending"):
        transition(P, E.ACK)
