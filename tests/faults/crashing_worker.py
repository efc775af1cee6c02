"""A real worker process that SIGKILLs itself at a chosen point of a batch (a test hook, tests only).

``HV_TEST_CRASH_AT`` says where: ``sql`` inside the SQL transaction of the Nth batch that moves an
alert (written, not committed), ``exec`` after that transaction committed and before the Redis MULTI
that acknowledges the batch is executed. ``HV_TEST_CRASH_AFTER`` is N (default 1). Run as
``python tests/faults/crashing_worker.py --name NAME`` with the usual HV_ settings.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hypervision import worker as worker_module
from hypervision.alert_store import AppliedMove
from hypervision.cli import main
from hypervision.events import Publication

CRASH_AT = os.environ["HV_TEST_CRASH_AT"]
CRASH_AFTER = int(os.environ.get("HV_TEST_CRASH_AFTER", "1"))
_seen = 0


def _die() -> None:
    sys.stderr.write(f"crashing_worker: SIGKILL at {CRASH_AT} of alerting batch {_seen}\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _crash_in_sql(session: Any, moves: Sequence[AppliedMove], now: datetime) -> Publication:
    """A move hook: runs after the alert rows are flushed, before the transaction commits."""
    global _seen
    if moves:
        _seen += 1
        if _seen >= CRASH_AFTER:
            session.flush()
            _die()
    return Publication()


_original_commit = worker_module.Worker._commit


async def _crash_before_exec(
    self: Any, shard: int, ids: Any, publication: Publication, *a: Any, **kw: Any
) -> None:
    global _seen
    if any(e.type == "alert.changed" for e in publication.events):  # SQL already committed
        _seen += 1
        if _seen >= CRASH_AFTER:
            _die()
    await _original_commit(self, shard, ids, publication, *a, **kw)


if CRASH_AT == "sql":
    _defaults = worker_module.default_move_hooks
    worker_module.default_move_hooks = lambda *a, **k: [*_defaults(*a, **k), _crash_in_sql]
elif CRASH_AT == "exec":
    worker_module.Worker._commit = _crash_before_exec  # type: ignore[method-assign]
else:
    raise SystemExit(f"HV_TEST_CRASH_AT must be sql or exec, not {CRASH_AT!r}")

if __name__ == "__main__":
    sys.argv = ["hypervision", "worker", *sys.argv[1:]]
    main()
