"""Short garbage-collector pauses for a process that holds a large, long-lived heap (a worker).

A worker keeps the rules engine's state in memory: with 1,000 rules over 5,000 series that is
50,000 subjects and about 600,000 objects the cyclic garbage collector tracks. Every full
collection walks all of them: 130–250 ms measured, during which no reading is handled, which was
the whole tail of the alert latency (bench/alert_latency.py, docs/performance.md).

So, every ``every_s``, the heap is *settled*: one collection of what is not yet settled (cheap: only
the objects created since the last settling), then ``gc.freeze()`` moves every survivor to the
permanent generation, which the collector no longer walks. Reference counting still frees a
settled object as soon as it is dropped; only a reference cycle among settled objects would never
be reclaimed, and the engine's state has none (subjects, series and windows are plain trees).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

SETTLE_EVERY_S = 60.0


class HeapSettler:
    def __init__(self, every_s: float = SETTLE_EVERY_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self._last: float | None = None

    def settle(self) -> float:
        """Collect what is young, freeze the rest; returns the pause in seconds."""
        started = time.perf_counter()
        gc.collect()
        gc.freeze()
        pause = time.perf_counter() - started
        self._last = self.clock()
        log.debug("heap settled in %.1f ms: %d objects frozen", pause * 1000, gc.get_freeze_count())
        return pause

    def maybe_settle(self) -> bool:
        """Settle when ``every_s`` has passed since the last time (or never was)."""
        if self._last is not None and self.clock() - self._last < self.every_s:
            return False
        self.settle()
        return True
