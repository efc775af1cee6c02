"""The helpline feeds wired to the bus: the AMI client's readings, and queue_log window statistics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from adapters.ami_client import AmiClient, AmiConfig
from adapters.errors import AdapterError
from adapters.link_health import SourceHealth
from adapters.queue_log import QueueLogWindow, parse_line, window_readings
from adapters.queue_log_follower import FileFollower
from hypervision.domain import Reading
from hypervision.runtime import Runtime

log = logging.getLogger(__name__)


def ami_client(runtime: Runtime, config: AmiConfig) -> AmiClient:
    """An AMI client whose readings go on the bus; run it with `await client.run()`."""

    async def sink(readings: list[Reading]) -> None:
        await runtime.ingestor.accept(readings)

    return AmiClient(config, sink, clock=runtime.clock)


@dataclass(frozen=True)
class QueueLogConfig:
    path: Path
    source_prefix: str
    zone: str | None = None
    windows: Sequence[timedelta] = field(default=(timedelta(minutes=15), timedelta(hours=1)))
    interval_s: float = 5.0
    from_start: bool = False
    queues: Sequence[str] = ()  # known queues, reported with zero calls until their first event


class QueueLogFeed:
    """Tails the queue_log and publishes abandon / wait statistics per window every `interval_s`."""

    def __init__(self, runtime: Runtime, config: QueueLogConfig) -> None:
        self.runtime = runtime
        self.config = config
        self.windows = [QueueLogWindow(w, config.queues) for w in config.windows]
        self.follower = FileFollower(config.path, from_start=config.from_start)
        self.health = SourceHealth(source=f"{config.source_prefix}:queue_log")
        self.bad_lines = 0

    def take(self, lines: Sequence[str]) -> None:
        for line in lines:
            try:
                event = parse_line(line)
            except AdapterError as err:
                # The line itself may hold a caller's number: count and describe it, never keep it.
                self.bad_lines += 1
                log.warning("queue_log: skipped an unreadable line (%s)", err.describe())
                continue
            if event is not None:
                for window in self.windows:
                    window.add(event)

    def readings(self) -> list[Reading]:
        now = self.runtime.clock()
        out: list[Reading] = []
        for window in self.windows:
            out += window_readings(
                window.stats(now),
                source_prefix=self.config.source_prefix,
                window=window.window,
                now=now,
                zone=self.config.zone,
            )
        return out

    async def poll_once(self) -> int:
        """Read what was appended, then publish the windows' readings; returns how many."""
        self.take(await asyncio.to_thread(self.follower.poll))
        readings = self.readings()
        await self.runtime.ingestor.accept(readings)
        self.health.succeeded(at=self.runtime.clock(), log=log)
        return len(readings)

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.poll_once()
                except OSError as err:
                    self.health.failed(
                        f"queue_log {self.config.path}: {err}", at=self.runtime.clock(), log=log
                    )
                await asyncio.sleep(self.config.interval_s)
        finally:
            self.follower.close()
