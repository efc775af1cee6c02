"""Task lifecycle state machine: the one table of allowed moves between task states (pure)."""

from __future__ import annotations

from enum import StrEnum

from hypervision.domain import TaskState


class TaskEvent(StrEnum):
    """What people do to a task; each event is one history row."""

    ACCEPT = "accept"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"
    # Back to open, for another team or person to accept (the team may change with it).
    REASSIGN = "reassign"


class IllegalTaskTransition(Exception):
    """The event is not allowed from the task's current state."""

    def __init__(self, state: TaskState, event: TaskEvent) -> None:
        self.state = state
        self.event = event
        super().__init__(f"{event.value!r} is not allowed on a task that is {state.value}")


_O, _A, _P = TaskState.OPEN, TaskState.ACCEPTED, TaskState.IN_PROGRESS
_D, _C = TaskState.DONE, TaskState.CANCELLED

TRANSITIONS: dict[tuple[TaskState, TaskEvent], TaskState] = {
    (_O, TaskEvent.ACCEPT): _A,
    (_A, TaskEvent.START): _P,
    # A quick job may be reported done without a separate "started" step.
    (_A, TaskEvent.COMPLETE): _D,
    (_P, TaskEvent.COMPLETE): _D,
    (_O, TaskEvent.CANCEL): _C,
    (_A, TaskEvent.CANCEL): _C,
    (_P, TaskEvent.CANCEL): _C,
    (_O, TaskEvent.REASSIGN): _O,
    (_A, TaskEvent.REASSIGN): _O,
    (_P, TaskEvent.REASSIGN): _O,
}

CLOSED_STATES: frozenset[TaskState] = frozenset({_D, _C})

# Moves a field team makes on its own tasks; cancelling and reassigning are a manager's decision.
TEAM_EVENTS: frozenset[TaskEvent] = frozenset({TaskEvent.ACCEPT, TaskEvent.START, TaskEvent.COMPLETE})


def transition(state: TaskState, event: TaskEvent) -> TaskState:
    """Return the state after ``event``, or raise IllegalTaskTransition if the table has no such move."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTaskTransition(state, event) from None


def is_allowed(state: TaskState, event: TaskEvent) -> bool:
    return (state, event) in TRANSITIONS
