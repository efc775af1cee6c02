"""Extension points run by the worker in the same SQL transaction as alert moves (tasks, logbook, CAP).

Each hook takes the session, the moves just applied and ``now``, stores its rows and returns what to
publish. A new feature adds its hook to ``default_move_hooks``.

A move can be *replayed*: an earlier run stored it, and the hooks' rows, then died before its Redis
commit, so nothing of it reached the screens. Its hooks must not run again (a second task, a second
logbook entry); a *replay hook* publishes again what they stored. A hook that pushes something live
adds its replay hook to ``default_replay_hooks``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel import Session

from alerts.loader import RuleSet
from hypervision import alert_store
from hypervision.alert_store import AppliedMove
from hypervision.events import Publication

MoveHook = Callable[[Session, Sequence[AppliedMove], datetime], Publication]
ReplayHook = Callable[[Session, Sequence[AppliedMove]], Publication]


def default_move_hooks(rules: Callable[[], RuleSet] | None = None) -> list[MoveHook]:
    """CAP first (public warnings), then the logbook (the alert is logged before its tasks), then tasks.

    With ``rules``, tasks are also held back for inhibited alerts (inhibition rules live in the rule
    set, which a reload may swap: the provider is asked each time).
    """
    from hypervision import cap_store, logbook, task_store  # here: these modules import this one's types

    tasks = task_store.make_tasks_hook(lambda: rules().inhibit) if rules else task_store.tasks_from_moves
    return [cap_store.cap_from_moves, logbook.entries_from_moves, tasks]


def default_replay_hooks() -> list[ReplayHook]:
    """The logbook's entries, then the tasks (CAP messages are pulled, never pushed: nothing to resend)."""
    from hypervision import logbook, task_store

    return [logbook.stored_for_replayed, task_store.stored_for_replayed]


def publish_moves(
    session: Session, moves: Sequence[AppliedMove], hooks: Sequence[MoveHook], now: datetime
) -> Publication:
    """The moves' own events, then what each hook adds. A replayed move's hooks already ran (their
    rows are stored): its alert and what the hooks stored for it are published again."""
    publication = alert_store.publication_for(moves)
    fresh = [m for m in moves if not m.replayed]
    for hook in hooks:
        publication.extend(hook(session, fresh, now))
    if replayed := [m for m in moves if m.replayed]:
        for replay in default_replay_hooks():
            publication.extend(replay(session, replayed))
    return publication
