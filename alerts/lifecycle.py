"""Alert lifecycle state machine: the one table of allowed moves between alert states."""

from __future__ import annotations

from enum import StrEnum

from hypervision.domain import AlertState


class AlertEvent(StrEnum):
    """What happens to an alert; each event is one audit row on the stored alert."""

    PEND = "pend"
    FIRE = "fire"
    UPDATE = "update"
    ACK = "ack"
    RESOLVE = "resolve"
    ESCALATE = "escalate"
    RENOTIFY = "renotify"


class IllegalTransition(Exception):
    """The event is not allowed from the alert's current state."""

    def __init__(self, state: AlertState | None, event: AlertEvent) -> None:
        self.state = state
        self.event = event
        shown = state.value if state is not None else "no open alert"
        super().__init__(f"{event.value!r} is not allowed from {shown}")


_P, _F, _A, _R = AlertState.PENDING, AlertState.FIRING, AlertState.ACKNOWLEDGED, AlertState.RESOLVED

# None means "no open alert for this fingerprint": a resolved alert is closed, so a new firing after
# resolution starts from None and opens a new alert (the worker decides that, the table only allows it).
TRANSITIONS: dict[tuple[AlertState | None, AlertEvent], AlertState] = {
    (None, AlertEvent.PEND): _P,
    (None, AlertEvent.FIRE): _F,
    (_P, AlertEvent.FIRE): _F,
    (_F, AlertEvent.UPDATE): _F,
    (_A, AlertEvent.UPDATE): _A,
    (_F, AlertEvent.ESCALATE): _F,
    (_A, AlertEvent.ESCALATE): _A,
    (_F, AlertEvent.RENOTIFY): _F,
    (_A, AlertEvent.RENOTIFY): _A,
    (_F, AlertEvent.ACK): _A,
    (_P, AlertEvent.RESOLVE): _R,
    (_F, AlertEvent.RESOLVE): _R,
    (_A, AlertEvent.RESOLVE): _R,
}

OPEN_STATES: frozenset[AlertState] = frozenset({_P, _F, _A})


def transition(state: AlertState | None, event: AlertEvent) -> AlertState:
    """Return the state after `event`, or raise IllegalTransition if the table has no such move."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(state, event) from None


def is_allowed(state: AlertState | None, event: AlertEvent) -> bool:
    return (state, event) in TRANSITIONS
