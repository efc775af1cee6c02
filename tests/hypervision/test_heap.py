"""Heap settling: survivors leave the collector's reach, still freed by reference counting."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from hypervision.heap import HeapSettler


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


class _State:
    def __init__(self) -> None:
        self.buckets = [[float(i)] * 8 for i in range(256)]


def test_settled_objects_are_no_longer_walked_but_are_freed_when_dropped() -> None:
    state = _State()
    probe = weakref.ref(state)
    HeapSettler().settle()
    frozen = gc.get_freeze_count()
    assert frozen > 256  # the state's lists, at least
    assert not any(o is state for o in gc.get_objects())  # the collector no longer sees it
    del state
    assert probe() is None  # reference counting freed it at once


def test_settles_once_per_period() -> None:
    now = [0.0]
    settler = HeapSettler(every_s=60, clock=lambda: now[0])
    assert settler.maybe_settle()  # never settled: now
    now[0] = 59.0
    assert not settler.maybe_settle()
    now[0] = 60.0
    assert settler.maybe_settle()
