"""The feed side of a process: the coordinator for pulled sources and the long-lived pushed feeds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.source import SourceConfig
from hypervision import bus, events
from hypervision.coordinator import Coordinator, bus_sinks
from hypervision.events import Event, MirrorSet, Publication
from hypervision.push_feeds import PushFeed, push_feeds
from hypervision.runtime import Runtime
from hypervision.stopping import stop_tasks

log = logging.getLogger(__name__)

PUSH_HEALTH_EVERY_S = 10.0


@dataclass
class Poller:
    coordinator: Coordinator | None
    client: httpx.AsyncClient
    feeds: list[PushFeed] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def stop(self) -> None:
        if self.coordinator is not None:
            self.coordinator.stop()
        await stop_tasks(self.tasks)
        await self.client.aclose()


async def start_poller(
    runtime: Runtime, sources: Sequence[SourceConfig], *, with_push_feeds: bool = True
) -> Poller:
    """Poll ``sources`` on their schedules and run the pushed feeds the settings switch on."""
    client = httpx.AsyncClient(follow_redirects=True, headers={"user-agent": "hypervision-poller"})
    coordinator = None
    if sources:
        publish, dead_letter, on_health = bus_sinks(runtime.redis, runtime.settings, runtime.clock)
        coordinator = Coordinator(
            sources,
            client=client,
            publish=publish,
            dead_letter=dead_letter,
            on_health=on_health,
            clock=runtime.clock,
        )
        coordinator.start()
    poller = Poller(coordinator, client)
    if with_push_feeds:
        poller.feeds = push_feeds(runtime)
        poller.tasks = [
            asyncio.create_task(feed.run(), name=f"feed:{feed.health.source}") for feed in poller.feeds
        ]
        if poller.feeds:
            poller.tasks.append(asyncio.create_task(_publish_push_health(runtime, poller.feeds)))
    log.info("polling %d sources, %d pushed feeds", len(sources), len(poller.feeds))
    return poller


async def _publish_push_health(runtime: Runtime, feeds: Sequence[PushFeed]) -> None:
    """Pushed feeds report in the same sources list as pulled ones (GET /api/sources, topic sources)."""
    last: dict[str, tuple[Any, ...]] = {}
    while True:
        publication = Publication()
        for feed in feeds:
            data = feed.health.as_dict()
            data.update(id=data["source"], kind="push", ok=not data["consecutive_failures"], stale=False)
            signature = (data["consecutive_failures"], data["last_error"])
            publication.mirror.append(MirrorSet(bus.SOURCES_HEALTH_KEY, str(data["id"]), data))
            if last.get(str(data["id"])) != signature:
                publication.events.append(Event("source.health", "sources", data))
                last[str(data["id"])] = signature
        try:
            await events.publish(runtime.redis, publication, events_maxlen=runtime.settings.events_maxlen)
        except Exception as err:
            log.warning("cannot publish pushed feeds' health: %s", err)
        await asyncio.sleep(PUSH_HEALTH_EVERY_S)
