"""The one poller of pulled feeds: schedules every source, retries with backoff, keeps its health.

Like Home Assistant's DataUpdateCoordinator: each source is fetched on its interval (with jitter so
sources do not fire together), a failed fetch is retried with exponential backoff, a payload that
cannot be parsed goes to the dead-letter stream with its raw bytes, and a failure is logged once
and the recovery once. Time comes from the injected clock; I/O from the injected client and sinks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from redis.asyncio import Redis
from redis.exceptions import RedisError

from adapters.errors import AdapterError
from adapters.http import FetchError
from adapters.registry import KINDS, Adapter, adapter_for
from adapters.source import SourceConfig
from hypervision import bus, events, metrics
from hypervision.config import Settings
from hypervision.domain import Reading
from hypervision.events import Event, MirrorSet, Publication
from hypervision.ingest import Ingestor

log = logging.getLogger(__name__)

Publish = Callable[[list[Reading]], Awaitable[Any]]
DeadLetter = Callable[[str, str, bytes], Awaitable[Any]]
# called after every poll with (health, changed): changed on a first failure, a recovery, stale/fresh
OnHealth = Callable[["SourceHealth", bool], Awaitable[Any]]
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[Any]]

RAW_CAP = 64_000  # bytes of a rejected payload kept in the dead-letter stream
MAX_BACKOFF_S = 60.0
PARSE_IN_THREAD_BYTES = 256_000
UNPUBLISHED_MAX = 10_000  # readings of one source kept through a bus outage


@dataclass(frozen=True)
class SourceHealth:
    """What the control room knows about one source, as plain data."""

    id: str
    kind: str
    domain: str
    zone: str | None
    interval_s: float
    stale_after: int = 3
    last_poll: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    errors_total: int = 0
    polls_total: int = 0
    readings_total: int = 0
    last_readings: int = 0
    newest_observed_at: datetime | None = None
    fresh_at: datetime | None = None  # the last poll that brought newer observations
    stale: bool = False

    @property
    def ok(self) -> bool:
        return self.consecutive_failures == 0 and not self.stale

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat()
        data["ok"] = self.ok
        return data


@dataclass
class _State:
    source: SourceConfig
    adapter: Adapter
    health: SourceHealth
    started: datetime
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Readings fetched while the bus was down, by series and observation time (a snapshot feed
    # fetched again during the outage adds nothing); published first at the next poll.
    unpublished: dict[tuple[str, datetime], Reading] = field(default_factory=dict)

    def keep_unpublished(self, readings: Sequence[Reading]) -> int:
        """Keep readings for the next poll, the newest UNPUBLISHED_MAX; returns how many were dropped."""
        for reading in readings:
            self.unpublished[(reading.key, reading.observed_at)] = reading
        dropped = max(0, len(self.unpublished) - UNPUBLISHED_MAX)
        for key in list(self.unpublished)[:dropped]:
            del self.unpublished[key]
        return dropped


class Coordinator:
    """Polls every configured source; ``poll(id)`` is one complete poll, used by jobs and tests."""

    def __init__(
        self,
        sources: Sequence[SourceConfig],
        *,
        client: httpx.AsyncClient,
        publish: Publish,
        dead_letter: DeadLetter,
        clock: Clock,
        on_health: OnHealth | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        backoff_s: float = 1.0,
        raw_cap: int = RAW_CAP,
    ) -> None:
        self._client = client
        self._publish = publish
        self._dead_letter = dead_letter
        self._clock = clock
        self._on_health = on_health
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._backoff_s = backoff_s
        self._raw_cap = raw_cap
        self._scheduler: AsyncIOScheduler | None = None
        now = clock()
        self._states: dict[str, _State] = {}
        for source in sources:
            if source.id in self._states:
                raise ValueError(f"duplicate source id {source.id!r}")
            domain = source.domain.value if source.domain else KINDS[source.kind][1].value
            health = SourceHealth(
                source.id, source.kind, domain, source.zone, source.interval_s, source.stale_after
            )
            self._states[source.id] = _State(source, adapter_for(source.kind), health, now)

    # -- health ------------------------------------------------------------------------------

    def _is_stale(self, state: _State, now: datetime) -> bool:
        return stale_at(state.health, now, since=state.started)

    def health(self) -> list[SourceHealth]:
        """Every source's health, staleness evaluated now."""
        now = self._clock()
        return [replace(s.health, stale=self._is_stale(s, now)) for s in self._states.values()]

    async def check_staleness(self) -> list[SourceHealth]:
        """Record sources that turned stale (or fresh) since the last look, and report them."""
        now = self._clock()
        changed = []
        for state in self._states.values():
            stale = self._is_stale(state, now)
            if stale != state.health.stale:
                state.health = replace(state.health, stale=stale)
                changed.append(state.health)
                if stale:
                    log.warning(
                        "source %s is stale: no fresh data for %d intervals",
                        state.source.id,
                        state.source.stale_after,
                    )
                await self._notify(state.health, changed=True)
        return changed

    async def _notify(self, health: SourceHealth, *, changed: bool) -> None:
        if self._on_health is not None:
            await self._on_health(health, changed)

    # -- one poll ----------------------------------------------------------------------------

    async def _fetch(self, state: _State) -> bytes:
        source = state.source
        error: AdapterError = AdapterError("not fetched")
        for attempt in range(source.retries + 1):
            try:
                async with asyncio.timeout(source.timeout_s):
                    return await state.adapter.fetch(self._client, source)
            except FetchError as err:
                error = err
                if not err.retryable:
                    break
            except AdapterError as err:
                error = err
                break
            except TimeoutError as err:
                # a body that trickles in defeats httpx's per-read timeout; this bounds the whole poll
                error = FetchError(f"timed out after {source.timeout_s:g} s", category="timeout")
                error.__cause__ = err
            if attempt < source.retries:
                delay = min(self._backoff_s * 2**attempt, MAX_BACKOFF_S)
                await self._sleep(delay * (1 + self._rng.uniform(0, 0.1)))
        raise error

    async def poll(self, source_id: str) -> SourceHealth:
        state = self._states[source_id]
        async with state.lock:  # a slow poll is never overlapped by the next one
            try:
                await self._poll(state)
            except RedisError as err:
                # The bus, not the source, failed: nothing is lost, the next poll publishes what this
                # one fetched. Health can be reported to no one meanwhile; it is kept in memory.
                reason = f"bus unavailable ({type(err).__name__}: {err})"
                state.health = replace(state.health, last_error=reason, last_error_at=self._clock())
                log.warning(
                    "source %s: %s; %d readings kept for the next poll",
                    source_id,
                    reason,
                    len(state.unpublished),
                )
            except Exception as err:  # top-level of a job: a bug must not stop the other sources
                log.exception("source %s: unexpected error while polling", source_id)
                await self._failed(state, f"internal error: {type(err).__name__}: {err}", b"", "internal")
            return state.health

    async def _poll(self, state: _State) -> None:
        source = state.source
        state.health = replace(
            state.health, last_poll=self._clock(), polls_total=state.health.polls_total + 1
        )
        if state.unpublished:  # first what the bus could not take at the last poll
            with contextlib.suppress(RedisError):  # still down: kept, and this poll's fetch still runs
                kept = list(state.unpublished.values())
                await self._publish(kept)
                metrics.count_ingested("pull", kept)
                log.info(
                    "source %s: %d readings kept during a bus outage published",
                    source.id,
                    len(state.unpublished),
                )
                state.unpublished.clear()
        started = time.perf_counter()
        try:
            raw = await self._fetch(state)
        except AdapterError as err:
            category = err.category if isinstance(err, FetchError) else "fetch"
            await self._failed(state, err.for_source(source.id).describe(), b"", category)
            return
        finally:
            metrics.ADAPTER_FETCH.labels(adapter=source.kind).observe(time.perf_counter() - started)
        received_at = self._clock()
        rejects: list[AdapterError] = []
        parse = partial(state.adapter.parse, raw, received_at=received_at, source=source, rejects=rejects)
        try:
            # parsers are pure: a big payload (a whole SI-VIC history) is parsed off the event loop
            readings = await asyncio.to_thread(parse) if len(raw) > PARSE_IN_THREAD_BYTES else parse()
        except AdapterError as err:
            await self._failed(state, err.for_source(source.id).describe(), raw, "parse")
            return
        if rejects:
            metrics.READINGS_REJECTED.labels(source_kind="pull").inc(len(rejects))
        for reject in rejects:
            await self._dead_letter(source.id, reject.for_source(source.id).describe(), raw[: self._raw_cap])
        if readings:
            try:
                await self._publish(readings)
            except RedisError:
                if dropped := state.keep_unpublished(readings):
                    log.warning(
                        "source %s: %d readings dropped, over %d kept", source.id, dropped, UNPUBLISHED_MAX
                    )
                raise
            metrics.count_ingested("pull", readings)
        await self._succeeded(state, readings, len(rejects), received_at)

    async def _failed(self, state: _State, reason: str, raw: bytes, category: str) -> None:
        metrics.ADAPTER_FAILURES.labels(adapter=state.source.kind, reason=category).inc()
        health = state.health
        state.health = replace(
            health,
            last_error=reason,
            last_error_at=self._clock(),
            consecutive_failures=health.consecutive_failures + 1,
            errors_total=health.errors_total + 1,
        )
        await self._dead_letter(state.source.id, reason, raw[: self._raw_cap])
        first = health.consecutive_failures == 0
        await self._notify(state.health, changed=first)
        if first:  # log the failure once, not at every poll
            log.warning("source %s failing: %s", state.source.id, reason)
        else:
            log.debug(
                "source %s still failing (%d): %s", state.source.id, state.health.consecutive_failures, reason
            )

    async def _succeeded(self, state: _State, readings: list[Reading], rejected: int, at: datetime) -> None:
        health = state.health
        if health.consecutive_failures:
            log.info(
                "source %s recovered after %d failed polls", state.source.id, health.consecutive_failures
            )
        newest = max((r.observed_at for r in readings), key=lambda d: d.astimezone(UTC), default=None)
        previous = health.newest_observed_at
        # fresh = newer observations; a feed that keeps serving the same old values is stale too
        fresh = newest is not None and (previous is None or newest > previous)
        state.health = replace(
            health,
            last_success=at,
            consecutive_failures=0,
            errors_total=health.errors_total + rejected,
            readings_total=health.readings_total + len(readings),
            last_readings=len(readings),
            newest_observed_at=max(newest, previous) if newest and previous else newest or previous,
            fresh_at=at if fresh else health.fresh_at,
        )
        state.health = replace(state.health, stale=self._is_stale(state, at))
        changed = bool(health.consecutive_failures) or health.stale != state.health.stale
        await self._notify(state.health, changed=changed)

    # -- scheduling --------------------------------------------------------------------------

    def start(
        self, scheduler: AsyncIOScheduler | None = None, *, staleness_every_s: float = 10.0
    ) -> AsyncIOScheduler:
        """Add one interval job per source (first runs spread over the jitter) and start polling."""
        self._scheduler = scheduler or AsyncIOScheduler(timezone=UTC)
        wall = datetime.now(UTC)  # APScheduler runs on the wall clock, not the injected one
        for source_id, state in self._states.items():
            interval = state.source.interval_s
            jitter = min(interval * 0.1, 30.0)
            self._scheduler.add_job(
                self.poll,
                IntervalTrigger(seconds=interval, jitter=jitter or None, timezone=UTC),
                args=[source_id],
                id=f"poll:{source_id}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=max(int(interval), 1),
                next_run_time=wall + timedelta(seconds=self._rng.uniform(0, jitter)),
            )
        self._scheduler.add_job(
            self.check_staleness,
            IntervalTrigger(seconds=staleness_every_s, timezone=UTC),
            id="sources:staleness",
            max_instances=1,
            coalesce=True,
        )
        if not self._scheduler.running:
            self._scheduler.start()
        return self._scheduler

    def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None


def stale_at(health: SourceHealth, now: datetime, *, since: datetime | None = None) -> bool:
    """No newer observations for ``stale_after`` intervals, counted from the last fresh poll (or
    ``since``, when polling started); a mirrored health without either keeps its recorded flag."""
    reference = health.fresh_at or since
    if reference is None:
        return health.stale
    return now - reference > timedelta(seconds=health.interval_s * health.stale_after)


def mirrored_health(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A health read back from ``hv:sources:health`` (written by a poller in another process), its
    staleness evaluated ``now``: a poller that died leaves its sources turning stale."""
    fresh_at = data.get("fresh_at")
    window = float(data.get("interval_s", 0)) * int(data.get("stale_after", 3))
    late = fresh_at is not None and (now - datetime.fromisoformat(fresh_at)).total_seconds() > window
    stale = bool(data.get("stale")) or late
    return data | {"stale": stale, "ok": not stale and not data.get("consecutive_failures")}


def health_publication(health: SourceHealth, *, changed: bool = True) -> Publication:
    """A source's health as the ``source.health`` event and its mirror in ``hv:sources:health``."""
    data = health.as_dict()
    return Publication(
        events=[Event("source.health", "sources", data)] if changed else [],
        mirror=[MirrorSet(bus.SOURCES_HEALTH_KEY, health.id, data)],
    )


def bus_sinks(redis: Redis, settings: Settings, clock: Clock) -> tuple[Publish, DeadLetter, OnHealth]:
    """The coordinator's sinks on the bus: readings to their shards, rejects to ``hv:deadletter``,
    health to ``hv:sources:health`` and its changes to the events stream (a stale source shows on
    the wall screens)."""
    ingestor = Ingestor(redis, settings)

    async def publish(readings: list[Reading]) -> None:
        await ingestor.accept(readings)

    async def dead_letter(source: str, reason: str, raw: bytes) -> None:
        await ingestor.reject(source=source, reason=reason, raw=raw, at=clock())

    async def on_health(health: SourceHealth, changed: bool) -> None:
        # the mirror after every poll (GET /api/sources in another process reads it), an event on change
        publication = health_publication(health, changed=changed)
        await events.publish(redis, publication, events_maxlen=settings.events_maxlen)

    return publish, dead_letter, on_health
