"""Stopping background tasks for sure, and within a bound.

A single ``task.cancel()`` is not enough on Python 3.11: a cancellation that lands at the very moment
an inner await completes can be swallowed by the library in between (``asyncio.wait_for`` does it,
CPython gh-86296, fixed in 3.12), and the task then carries on with its loop as if nothing happened.
A full test run showed it: a feed loop sat in its ``asyncio.sleep`` with a cancellation pending that it
never saw. So a stop here cancels again, every ``nudge_s``, until the tasks are done or ``grace_s``
has passed, and names the tasks that would not stop.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)

GRACE_S = 10.0
NUDGE_S = 0.5


async def stop_tasks(
    tasks: Iterable[asyncio.Task[Any]], *, grace_s: float = GRACE_S, nudge_s: float = NUDGE_S
) -> list[asyncio.Task[Any]]:
    """Cancel ``tasks`` until they are done; returns those still running after ``grace_s`` (logged).

    Tasks already done are left as they are. The outcome of the others is consumed: one that failed
    while stopping is logged, never raised into the caller's shutdown.
    """
    running = [task for task in tasks if not task.done()]
    pending = set(running)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    while pending:
        for task in pending:
            task.cancel()
        left = deadline - loop.time()
        if left <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(nudge_s, left))
    for task in running:
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.warning("task %s failed while stopping", task.get_name(), exc_info=task.exception())
    for task in pending:
        stack = io.StringIO()
        task.print_stack(file=stack)
        log.error("task %s did not stop within %g s:\n%s", task.get_name(), grace_s, stack.getvalue())
    return sorted(pending, key=lambda task: task.get_name())
