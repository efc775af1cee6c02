"""Stopping background tasks: a cancellation swallowed once does not keep a task alive."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hypervision.stopping import stop_tasks


async def _loop_that_swallows_one_cancel(swallowed: list[int]) -> None:
    # What asyncio.wait_for does on Python 3.11 when the cancel lands as the inner await completes.
    while True:
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed.append(1)


async def test_a_task_that_swallowed_a_cancel_is_cancelled_again() -> None:
    swallowed: list[int] = []
    task = asyncio.create_task(_loop_that_swallows_one_cancel(swallowed))
    await asyncio.sleep(0.05)

    left = await stop_tasks([task], grace_s=5, nudge_s=0.05)

    assert left == []
    assert swallowed == [1]
    assert task.cancelled()


async def test_a_task_that_never_stops_is_named_and_returned(caplog: pytest.LogCaptureFixture) -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(stubborn(), name="stubborn-feed")
    await asyncio.sleep(0.02)  # started: a task cancelled before its first step is simply dropped
    with caplog.at_level(logging.ERROR, logger="hypervision.stopping"):
        left = await stop_tasks([task], grace_s=0.3, nudge_s=0.05)

    assert left == [task]
    assert "stubborn-feed did not stop within 0.3 s" in caplog.text
    release.set()
    await task


async def test_a_failure_during_clean_up_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def fails_on_cancel() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise RuntimeError("clean-up broke") from None

    task = asyncio.create_task(fails_on_cancel(), name="breaks")
    await asyncio.sleep(0)
    with caplog.at_level(logging.WARNING, logger="hypervision.stopping"):
        left = await stop_tasks([task])

    assert left == []
    assert "task breaks failed while stopping" in caplog.text
    assert "clean-up broke" in caplog.text
