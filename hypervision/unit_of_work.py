"""Run one SQL unit of work off the event loop, commit it, then publish what it produced."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from sqlmodel import Session

from hypervision.db import session_scope
from hypervision.events import Publication, publish
from hypervision.runtime import Runtime

T = TypeVar("T")


async def commit_and_publish(runtime: Runtime, work: Callable[[Session], tuple[T, Publication]]) -> T:
    """``work`` returns its result and a publication; screens hear of it only once SQL has committed."""

    def run() -> tuple[T, Publication]:
        with session_scope(runtime.db) as session:
            return work(session)

    result, publication = await asyncio.to_thread(run)
    await publish(runtime.redis, publication, events_maxlen=runtime.settings.events_maxlen)
    return result
