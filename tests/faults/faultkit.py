"""What the fault tests share: a one-rule set, NO2 readings with every Nth one alerting, bus checks."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from hypervision import bus
from hypervision.domain import Reading
from hypervision.events import decode_entry
from hypervision.runtime import Runtime

RULES = """
rules:
  - id: no2-high
    title: "NO2 {value} at {source}"
    select: {domain: air, metric: no2}
    when: {op: ">", value: 200}
    severity: warning
"""


def rules_file(folder: Path, text: str = RULES) -> Path:
    path = folder / "rules.yaml"
    path.write_text(text)
    return path


def no2_readings(
    prefix: str, n: int, start: datetime, *, every_nth: int = 0, zones: int = 5, first: int = 0
) -> list[Reading]:
    """One reading per new station ``{prefix}{i:05d}``; with ``every_nth``, every Nth is over 200."""
    return [
        Reading(source=f"air:station:{prefix}{i:05d}", domain="air", metric="no2", unit="µg/m³",
                value=450.0 if every_nth and i % every_nth == 0 else 20.0,
                observed_at=start + timedelta(milliseconds=i), zone=f"zone-{i % zones}")
        for i in range(first, first + n)
    ]  # fmt: skip


async def picture_size(runtime: Runtime, at_least: int) -> bool:
    return int(await runtime.redis.hlen(bus.PICTURE_KEY)) >= at_least


async def nothing_pending(runtime: Runtime) -> bool:
    for shard in range(runtime.settings.reading_shards):
        info = await runtime.redis.xpending(bus.readings_stream(shard), bus.WORKER_GROUP)
        if info["pending"]:
            return False
    return True


async def alert_events(runtime: Runtime) -> Counter[str]:
    """How many ``alert.changed`` events the stream holds per source."""
    entries = await runtime.redis.xrange(bus.EVENTS_STREAM)
    events = [decode_entry(i, f)[1] for i, f in entries]
    return Counter(e.data["source"] for e in events if e.type == "alert.changed")
