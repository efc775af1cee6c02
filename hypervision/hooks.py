"""Extension points run by the worker in the same SQL transaction as alert moves (tasks, logbook, CAP).

Each hook takes the session, the moves just applied and ``now``, and returns what to publish. Add a
feature's hook to ``MOVE_HOOKS`` here (by import path, so this module stays import-light).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel import Session

from hypervision.alert_store import AppliedMove
from hypervision.events import Publication

MoveHook = Callable[[Session, Sequence[AppliedMove], datetime], Publication]

# "module:function" of each hook, run in this order.
MOVE_HOOKS: list[str] = [
    "hypervision.cap_store:cap_from_moves",
    "hypervision.logbook:entries_from_moves",  # before tasks: the alert is logged before its tasks
    "hypervision.task_store:tasks_from_moves",
]


def default_move_hooks() -> list[MoveHook]:
    hooks: list[MoveHook] = []
    for path in MOVE_HOOKS:
        module_name, _, attr = path.partition(":")
        hooks.append(getattr(importlib.import_module(module_name), attr))
    return hooks
