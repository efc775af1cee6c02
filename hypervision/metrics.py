"""Prometheus metrics of every process (prometheus-client); names start with ``hypervision_``.

Counters and histograms are updated where things happen (ingest, worker, coordinator, hub). The
state of the bus and of the open alerts and tasks lives in Redis, not in a process, so those gauges
are refreshed from Redis when ``/metrics`` is scraped (``refresh_from_redis``): every API replica
reports the same values, and dashboards take ``max`` over replicas.
"""

from __future__ import annotations

import time
from collections import Counter as Tally
from collections.abc import Sequence
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from hypervision import bus

# The lag of a group is counted entry by entry only on Redis < 7 (no `lag` in XINFO GROUPS); cap
# that walk so a scrape stays cheap even with a huge backlog.
LAG_COUNT_CAP = 100_000

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# -- ingest (API, LoRaWAN, MQTT, coordinator) -------------------------------------------------------
READINGS_INGESTED = Counter(
    "hypervision_readings_ingested_total", "Readings accepted onto the bus", ["source_kind", "domain"]
)
READINGS_REJECTED = Counter(
    "hypervision_readings_rejected_total", "Items refused at the edge and dead-lettered", ["source_kind"]
)

# -- adapters (the coordinator polls them) ----------------------------------------------------------
ADAPTER_FETCH = Histogram(
    "hypervision_adapter_fetch_seconds",
    "Duration of one fetch of a pulled source, successful or not",
    ["adapter"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
ADAPTER_FAILURES = Counter(
    "hypervision_adapter_failures_total",
    "Failed fetches of a pulled source, by reason",
    ["adapter", "reason"],
)

# -- worker ---------------------------------------------------------------------------------------
READINGS_PROCESSED = Counter("hypervision_readings_processed_total", "Readings handled by workers")
READINGS_DEADLETTERED = Counter(
    "hypervision_readings_deadlettered_total", "Readings a worker gave up on (poison) and dead-lettered"
)
RULE_EVALUATION = Histogram(
    "hypervision_rule_evaluation_seconds",
    "Time to evaluate the rules over one batch of readings",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
)
ALERT_MOVES = Counter("hypervision_alert_moves_total", "Alert lifecycle moves", ["event", "severity"])
READING_COMMIT = Histogram(
    "hypervision_reading_commit_seconds",
    "From a reading's entry on the bus to its effects committed by a worker (queue, rules, SQL)",
    buckets=LATENCY_BUCKETS,
)

# -- hub (hypervision_ws_* counters are defined next to the hub) ------------------------------------
WS_CLIENTS = Gauge("hypervision_ws_clients", "Connected WebSocket clients")
READING_TO_SCREEN = Histogram(
    "hypervision_reading_to_screen_seconds",
    "From a worker taking a reading (its received_at) to its picture frame handed to a WebSocket client",
    buckets=LATENCY_BUCKETS,
)

# -- state read from Redis at scrape time -----------------------------------------------------------
STREAM_LENGTH = Gauge("hypervision_stream_length", "Entries kept in a stream", ["stream"])
GROUP_LAG = Gauge(
    "hypervision_consumer_lag", "Readings of a shard not yet delivered to any worker", ["stream"]
)
GROUP_PENDING = Gauge(
    "hypervision_consumer_pending", "Readings delivered to a worker and not yet acknowledged", ["stream"]
)
OPEN_ALERTS = Gauge("hypervision_alerts", "Open alerts by state and severity", ["state", "severity"])
OPEN_TASKS = Gauge("hypervision_tasks", "Open tasks by state and team", ["state", "team"])


def count_ingested(source_kind: str, readings: Sequence[Any]) -> None:
    """Readings accepted onto the bus: one labelled increment per domain, not per reading (a
    ``labels()`` lookup costs ~2 µs, a fifth of the API's cost per reading)."""
    for domain, count in Tally(r.domain.value for r in readings).items():
        READINGS_INGESTED.labels(source_kind=source_kind, domain=domain).inc(count)


def note_moves(moves: Sequence[Any]) -> None:
    for move in moves:
        ALERT_MOVES.labels(event=move.event.value, severity=move.alert.get("severity", "")).inc()


def stream_time(entry_id: bytes | str) -> float:
    """The time (epoch seconds, Redis server clock) at which a stream entry was appended."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.partition("-")[0]) / 1000


def observe_commit(entry_ids: Sequence[bytes | str], now_s: float | None = None) -> None:
    """Record bus-to-commit latency of a committed batch (wall clock, not the injected clock)."""
    now_s = time.time() if now_s is None else now_s
    for entry_id in entry_ids:
        READING_COMMIT.observe(max(0.0, now_s - stream_time(entry_id)))


async def backlog(redis: Redis, shards: int) -> dict[str, dict[str, int]]:
    """Per readings stream: its length, the group's lag (undelivered) and pending (unacknowledged)."""
    result: dict[str, dict[str, int]] = {}
    for shard in range(shards):
        stream = bus.readings_stream(shard)
        length = int(await redis.xlen(stream))
        # No group yet means no worker ever started: everything in the stream is waiting.
        lag, pending = length, 0
        try:
            groups = await redis.xinfo_groups(stream)
        except ResponseError:  # no stream either: nothing was ever ingested on this shard
            groups = []
        for group in groups:
            if _text(group.get("name")) != bus.WORKER_GROUP:
                continue
            pending = int(group.get("pending") or 0)
            reported = group.get("lag")
            if reported is not None:
                lag = int(reported)
            else:  # Redis 6, or a lag Redis cannot tell after a trim: count what follows the cursor
                last = _text(group.get("last-delivered-id") or "0-0")
                entries = await redis.xrange(stream, min=f"({last}", count=LAG_COUNT_CAP)
                lag = len(entries or [])
        result[stream] = {"length": length, "lag": lag, "pending": pending}
    return result


async def refresh_from_redis(redis: Redis, shards: int) -> None:
    """Set the bus, alert and task gauges from what Redis holds now."""
    for stream, figures in (await backlog(redis, shards)).items():
        STREAM_LENGTH.labels(stream=stream).set(figures["length"])
        GROUP_LAG.labels(stream=stream).set(figures["lag"])
        GROUP_PENDING.labels(stream=stream).set(figures["pending"])
    for stream in (bus.EVENTS_STREAM, bus.DEADLETTER_STREAM):
        STREAM_LENGTH.labels(stream=stream).set(int(await redis.xlen(stream)))
    alerts = Tally(
        (str(a.get("state")), str(a.get("severity")))
        for a in map(bus.loads, await redis.hvals(bus.OPEN_ALERTS_KEY))
    )
    _set_tally(OPEN_ALERTS, alerts, ("state", "severity"))
    tasks = Tally(
        (str(t.get("state")), str(t.get("team")))
        for t in map(bus.loads, await redis.hvals(bus.OPEN_TASKS_KEY))
    )
    _set_tally(OPEN_TASKS, tasks, ("state", "team"))


def _set_tally(gauge: Gauge, tally: Tally[tuple[str, str]], names: tuple[str, str]) -> None:
    # Zero the series seen before rather than removing them, so a graph drops to 0 instead of a gap.
    for labels in list(gauge._metrics):
        if labels not in tally:
            gauge.labels(*labels).set(0)
    for labels, count in tally.items():
        gauge.labels(**dict(zip(names, labels, strict=True))).set(count)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def start_metrics_server(port: int | None, host: str = "127.0.0.1") -> WSGIServer | None:
    """Serve this process's metrics on ``host:port`` (a worker or poller: it has no API of its own).

    Returns the server (``shutdown()`` stops it), or None when no port is configured. The bus and
    alert gauges are left to the API replicas, which refresh them from Redis at each scrape.
    """
    if not port:
        return None
    server, _thread = start_http_server(port, addr=host)
    return server
