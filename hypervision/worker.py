"""The worker: reads its shards with a consumer group, updates the picture, runs the rules, publishes.

A batch is acknowledged in the same MULTI that stores its effects (picture, engine state, events),
fenced by the shard's lease, so a crash at any point means the batch is handled again from the last
committed state: no reading lost, none counted twice. SQL writes are idempotent for the same reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError, WatchError
from sqlalchemy.engine import Engine as SqlEngine
from sqlalchemy.exc import SQLAlchemyError

from alerts.engine import AlertChange, Engine
from alerts.loader import RulesError, RuleSet
from hypervision import alert_store, bus, metrics
from hypervision.alert_store import AppliedMove
from hypervision.config import Settings
from hypervision.db import session_scope
from hypervision.domain import Reading
from hypervision.events import Event, MirrorSet, Publication, add_to_pipeline
from hypervision.heap import HeapSettler
from hypervision.history import history_ops
from hypervision.hooks import MoveHook, default_move_hooks, publish_moves
from hypervision.housekeeping import Housekeeper
from hypervision.ingest import deadletter_fields
from hypervision.logs import correlation_id
from hypervision.picture import picture_entry
from hypervision.shard_lease import LeaseManager
from hypervision.stopping import stop_tasks

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class LeaseLost(RuntimeError):
    """Another worker owns the shard now; the batch was not acknowledged and is theirs to handle."""


@dataclass
class ShardState:
    engine: Engine
    caught_up: bool = False
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class Worker:
    """One worker process's loop; several workers share the shards through leases."""

    def __init__(
        self,
        *,
        redis: Redis,
        db: SqlEngine,
        settings: Settings,
        rules: Callable[[], RuleSet],
        clock: Clock,
        name: str | None = None,
        move_hooks: Sequence[MoveHook] | None = None,
        reload_rules: Callable[[], RuleSet] | None = None,
    ) -> None:
        self.redis = redis
        self.db = db
        self.settings = settings
        self.load_rules = rules
        self.reload_rules = reload_rules
        self.clock = clock
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.move_hooks = list(move_hooks) if move_hooks is not None else default_move_hooks(self._rules)
        self.leases = LeaseManager(
            redis, name=self.name, shards=settings.reading_shards, ttl_ms=settings.lease_ttl_ms
        )
        self.shards: dict[int, ShardState] = {}
        self.housekeeper = Housekeeper(
            redis=redis, db=db, settings=settings, rules=self._rules, move_hooks=self.move_hooks
        )
        self.rule_set: RuleSet | None = None
        self.latest_at: dict[str, datetime] = {}
        # The engine's state is a large, stable heap: settled now and then, so that full garbage
        # collections stop walking it (see hypervision/heap.py).
        self.heap = HeapSettler()
        self._last_tick: datetime | None = None
        self._last_rebalance = 0.0

    def _rules(self) -> RuleSet:
        assert self.rule_set is not None
        return self.rule_set

    # -- set-up -----------------------------------------------------------------------------------
    async def start(self) -> None:
        for shard in range(self.settings.reading_shards):
            try:
                await self.redis.xgroup_create(
                    bus.readings_stream(shard), bus.WORKER_GROUP, id="0", mkstream=True
                )
            except ResponseError as err:
                if "BUSYGROUP" not in str(err):
                    raise
        self.rule_set = self.load_rules()
        picture: dict[bytes, bytes] = await self.redis.hgetall(bus.PICTURE_KEY)  # type: ignore[assignment]
        for key, raw in picture.items():
            self.latest_at[key.decode()] = datetime.fromisoformat(bus.loads(raw)["observed_at"])
        await self._rebalance()

    async def _rebalance(self) -> None:
        gained, lost = await self.leases.rebalance()
        for shard in lost:
            self.shards.pop(shard, None)
            log.info("worker %s released shard %d", self.name, shard)
        # Owned but not loaded: dropped after an outage of Redis or the database, while the lease
        # held; reloading the committed state is what lets the worker catch up.
        taken = sorted(gained | (self.leases.owned - self.shards.keys()))
        for shard in taken:
            await self._take_shard(shard)
        if taken:
            self.heap.settle()  # whole shards' state was just loaded: once for all of them
        self._last_rebalance = asyncio.get_running_loop().time()

    async def _take_shard(self, shard: int) -> None:
        """Load the shard's committed engine state and claim what a dead owner left pending."""
        assert self.rule_set is not None
        engine = Engine(self.rule_set)
        state: dict[bytes, bytes] = await self.redis.hgetall(bus.engine_state_key(shard))  # type: ignore[assignment]
        engine.load_state({k.decode(): v for k, v in state.items()})
        # The lease proves the previous owner is gone, so its pending entries are ours at once.
        claimed = await self._claim(shard, min_idle_ms=0)
        self.shards[shard] = ShardState(engine)
        log.info("worker %s took shard %d (%d pending entries reclaimed)", self.name, shard, claimed)

    # -- main loop --------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        keeper = asyncio.create_task(self._keep_leases(stop), name=f"leases-{self.name}")
        try:
            while not stop.is_set():
                try:
                    await self.step()
                except LeaseLost as err:
                    log.warning("%s", err)
                except (RedisError, SQLAlchemyError, OSError) as err:
                    # Outage of Redis or the database: nothing was acknowledged; start over from the
                    # committed state once they answer again.
                    log.warning("worker %s: %s; retrying in 1 s", self.name, err)
                    self.shards.clear()
                    await asyncio.sleep(1.0)
                    await self._safe_rebalance()
        finally:
            await stop_tasks([keeper])
            with contextlib.suppress(RedisError):
                await self.leases.release_all()

    async def _keep_leases(self, stop: asyncio.Event) -> None:
        """Renew leases on a timer of their own, so a long batch never lets them lapse."""
        period = self.settings.lease_ttl_ms / 3000
        while not stop.is_set():
            await asyncio.sleep(period)
            try:
                for shard in await self.leases.renew():
                    self.shards.pop(shard, None)
                    log.warning("worker %s: lease of shard %d lapsed", self.name, shard)
            except (RedisError, OSError) as err:
                log.warning("worker %s cannot renew leases: %s", self.name, err)

    async def _safe_rebalance(self) -> None:
        try:
            await self._rebalance()
        except (RedisError, OSError) as err:
            log.warning("worker %s cannot rebalance: %s", self.name, err)

    async def step(self) -> int:
        """Read and handle one batch from the owned shards, tick, rebalance; returns entries handled."""
        loop_time = asyncio.get_running_loop().time()
        if loop_time - self._last_rebalance > self.settings.lease_ttl_ms / 3000:
            await self._rebalance()
            await self._reclaim_idle()
        handled = 0
        for shard, state in list(self.shards.items()):
            if not state.caught_up:
                handled += await self._read_and_handle(shard, "0", block=None)
        streams: dict[Any, Any] = {
            bus.readings_stream(s): ">" for s, st in self.shards.items() if st.caught_up
        }
        if streams:
            response: Any = await self.redis.xreadgroup(
                bus.WORKER_GROUP,
                self.name,
                streams,
                count=self.settings.worker_batch,
                block=self.settings.worker_block_ms,
            )
            batches = [(_shard_of_stream(name), entries) for name, entries in response or [] if entries]
            # Shards share nothing, so their batches run side by side: one shard's rules are
            # evaluated while another's commit is in flight (a quarter of the time was spent
            # waiting for EXEC). Each batch still commits alone, in its own fenced MULTI.
            results = await asyncio.gather(
                *(self._handle(shard, entries) for shard, entries in batches if shard in self.shards),
                return_exceptions=True,
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
                handled += result
        elif not self.shards:
            await asyncio.sleep(self.settings.worker_block_ms / 1000)
        await self._maybe_tick()
        return handled

    async def _claim(self, shard: int, *, min_idle_ms: int) -> int:
        """Move to this consumer every entry of the shard pending longer than ``min_idle_ms``."""
        cursor, claimed = "0-0", 0
        while True:
            result: Any = await self.redis.xautoclaim(
                bus.readings_stream(shard),
                bus.WORKER_GROUP,
                self.name,
                min_idle_time=min_idle_ms,
                start_id=cursor,
                count=1000,
            )
            cursor = result[0].decode() if isinstance(result[0], bytes) else result[0]
            claimed += len(result[1])
            if cursor == "0-0":
                return claimed

    async def _reclaim_idle(self) -> None:
        """Take over entries left pending too long under another consumer's name on our shards.

        A worker that stalled past its lease may still read a batch before it notices; its commit
        is refused, and without this those entries would stay pending under its name for good.
        """
        for shard, state in list(self.shards.items()):
            claimed = await self._claim(shard, min_idle_ms=self.settings.claim_idle_ms)
            if claimed:
                state.caught_up = False  # the next step handles them from our own pending list
                log.warning("worker %s reclaimed %d idle entries on shard %d", self.name, claimed, shard)

    async def _read_and_handle(self, shard: int, start: str, block: int | None) -> int:
        """Re-handle this consumer's own pending entries (after a takeover or a failure)."""
        response: Any = await self.redis.xreadgroup(
            bus.WORKER_GROUP,
            self.name,
            {bus.readings_stream(shard): start},
            count=self.settings.worker_batch,
            block=block,
        )
        entries = response[0][1] if response else []
        if not entries:
            self.shards[shard].caught_up = True
            return 0
        return await self._handle(shard, entries)

    # -- one batch --------------------------------------------------------------------------------
    async def _handle(self, shard: int, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> int:
        state = self.shards[shard]
        now = self.clock()
        # Log lines of this batch carry the shard and first entry: the id a reading has on the bus.
        correlation_id.set(f"{shard}/{entries[0][0].decode()}" if entries else None)
        readings: list[tuple[str, Reading]] = []
        poison: list[tuple[str, str, Any]] = []
        for raw_id, fields in entries:
            entry_id = raw_id.decode()
            raw = fields.get(bus.READING_FIELD)
            if raw is None:  # acknowledged but unusable: a deleted (trimmed) entry in the pending list
                poison.append((entry_id, "entry has no reading (trimmed before it was handled)", b""))
                continue
            try:
                readings.append((entry_id, bus.decode_reading(raw)))
            except ValueError as err:
                poison.append((entry_id, f"undecodable reading: {err}", raw))
        changes: list[tuple[str | None, AlertChange]] = []
        try:
            with metrics.RULE_EVALUATION.time():
                for entry_id, reading in readings:
                    for change in state.engine.on_reading(reading, now):
                        changes.append((entry_id, change))
        except Exception:
            log.exception(
                "worker %s: rule evaluation failed on shard %d; isolating the culprit", self.name, shard
            )
            return await self._isolate_poison(shard, entries)
        moves: list[AppliedMove] = []
        # The picture first: a screen shows the value before the alert it triggered.
        publication = self._picture_publication(readings, now)
        if changes:
            moves, alert_publication = await asyncio.to_thread(self._apply_sql, changes, now)
            publication.extend(alert_publication)
        ids = [e[0] for e in entries]
        await self._commit(shard, ids, publication, poison, now, history=[r for _, r in readings])
        metrics.observe_commit(ids)
        for entry_id, reading in readings:
            seen = self.latest_at.get(reading.key)
            if seen is None or reading.observed_at > seen:
                self.latest_at[reading.key] = reading.observed_at
            state.failures.pop(entry_id, None)
        metrics.READINGS_PROCESSED.inc(len(readings))
        metrics.note_moves([m for m in moves if not m.replayed])
        return len(entries)

    def _apply_sql(
        self, changes: list[tuple[str | None, AlertChange]], now: datetime
    ) -> tuple[list[AppliedMove], Publication]:
        with session_scope(self.db) as session:
            moves = alert_store.apply_engine_changes(session, changes)
            publication = publish_moves(session, moves, self.move_hooks, now)
        return moves, publication

    def _picture_publication(self, readings: list[tuple[str, Reading]], now: datetime) -> Publication:
        newest: dict[str, Reading] = {}
        for _, reading in readings:
            seen = newest.get(reading.key)
            if seen is None or reading.observed_at >= seen.observed_at:
                newest[reading.key] = reading
        publication = Publication()
        by_domain: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for key, reading in newest.items():
            shown_at = self.latest_at.get(key)
            if shown_at is not None and reading.observed_at < shown_at:
                continue  # a late reading never replaces a newer one on the screen
            entry = picture_entry(reading, received_at=now)
            publication.mirror.append(MirrorSet(bus.PICTURE_KEY, key, entry))
            by_domain[reading.domain.value].append(entry)
        for domain, items in by_domain.items():
            publication.events.append(Event("picture.delta", f"picture:{domain}", {"readings": items}))
        return publication

    async def _commit(
        self,
        shard: int,
        ids: list[bytes],
        publication: Publication,
        poison: list[tuple[str, str, Any]],
        now: datetime,
        history: Sequence[Reading] = (),
    ) -> None:
        """Effects, engine state and XACK in one MULTI, fenced by the lease (WATCH)."""
        state = self.shards[shard]
        dirty = state.engine.take_dirty_state()
        epoch_key = bus.lease_epoch_key(shard)
        async with self.redis.pipeline(transaction=True) as pipe:
            # Fencing: if another worker took the shard since we did, its epoch differs and EXEC fails.
            await pipe.watch(epoch_key)
            epoch = await pipe.get(epoch_key)
            if epoch is None or int(epoch) != self.leases.epochs.get(shard):
                self.shards.pop(shard, None)
                self.leases.owned.discard(shard)
                raise LeaseLost(f"worker {self.name} lost shard {shard} to another worker")
            pipe.multi()
            add_to_pipeline(pipe, publication, events_maxlen=self.settings.events_maxlen)
            history_ops(
                pipe,
                history,
                now=now,
                bucket_s=self.settings.history_bucket_s,
                hours=self.settings.history_hours,
            )
            key = bus.engine_state_key(shard)
            to_set = {k: v for k, v in dirty.items() if v is not None}
            to_del = [k for k, v in dirty.items() if v is None]
            if to_set:
                pipe.hset(key, mapping=to_set)  # type: ignore[arg-type]
            if to_del:
                pipe.hdel(key, *to_del)
            for entry_id, reason, raw in poison:
                pipe.xadd(
                    bus.DEADLETTER_STREAM,
                    deadletter_fields(
                        f"stream:{shard}:{entry_id}",
                        reason,
                        raw,
                        at=now,
                        raw_max=self.settings.deadletter_raw_max,
                    ),  # type: ignore[arg-type]
                    maxlen=self.settings.deadletter_maxlen,
                    approximate=True,
                )
            if ids:
                pipe.xack(bus.readings_stream(shard), bus.WORKER_GROUP, *ids)
            try:
                await pipe.execute()
            except WatchError as err:
                self.shards.pop(shard, None)
                self.leases.owned.discard(shard)
                raise LeaseLost(f"worker {self.name} lost shard {shard} while committing") from err

    async def _isolate_poison(self, shard: int, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> int:
        """Count a failure against each entry of a failed batch; past the limit, dead-letter it alone."""
        state = self.shards[shard]
        # Start the shard again from its committed state, so nothing half-evaluated is kept.
        await self._take_shard(shard)
        new_state = self.shards[shard]
        new_state.failures = state.failures
        limit = self.settings.max_deliveries
        doomed = []
        for raw_id, fields in entries:
            entry_id = raw_id.decode()
            new_state.failures[entry_id] += 1
            if new_state.failures[entry_id] >= limit:
                doomed.append((raw_id, fields))
        if len(entries) > 1 and not doomed:
            # Retry one by one so the culprit is found and the healthy entries get through.
            handled = 0
            for entry in entries:
                try:
                    handled += await self._handle(shard, [entry])
                except LeaseLost:
                    raise
            return handled
        for raw_id, fields in doomed:
            entry_id = raw_id.decode()
            reason = f"rule evaluation failed {limit} times on this reading"
            await self._commit(
                shard,
                [raw_id],
                Publication(),
                [(entry_id, reason, fields.get(bus.READING_FIELD, b""))],
                self.clock(),
            )
            new_state.failures.pop(entry_id, None)
            metrics.READINGS_DEADLETTERED.inc()
            log.error(
                "worker %s dead-lettered reading %s on shard %d: %s", self.name, entry_id, shard, reason
            )
        return len(doomed)

    # -- ticks (absence, schedules, `for` timers) -------------------------------------------------
    async def _maybe_tick(self) -> None:
        now = self.clock()
        if (
            self._last_tick is not None
            and (now - self._last_tick).total_seconds() < self.settings.tick_interval_s
        ):
            return
        self._last_tick = now
        await self._follow_rules()
        await self.tick(now)
        if 0 in self.shards:
            await self.housekeeper.maybe_run(now)
        self.heap.maybe_settle()

    async def _follow_rules(self) -> None:
        """Swap to a reloaded rule set, keeping every window and pending ``for`` of the rules that stay.

        In this process the API swaps the runtime's rules; another process's reload is announced by
        the digest in Redis, and this worker then reads the rule files itself.
        """
        current = self.load_rules()
        raw: bytes | None = await self.redis.get(bus.RULES_DIGEST_KEY)  # type: ignore[assignment]
        wanted = raw.decode() if raw is not None else None
        assert self.rule_set is not None
        if wanted is not None and wanted != current.digest and self.reload_rules is not None:
            try:
                current = await asyncio.to_thread(self.reload_rules)
            except RulesError as err:
                log.error("worker %s keeps its rules: the announced reload does not load: %s", self.name, err)
                return
        if current is self.rule_set or current.digest == self.rule_set.digest:
            return
        self.rule_set = current
        for state in self.shards.values():
            state.engine = state.engine.with_rules(current)
        log.info(
            "worker %s now runs %d rules (digest %s)", self.name, len(current.rules), current.digest[:12]
        )

    async def tick(self, now: datetime) -> None:
        cause = f"tick:{int(now.timestamp() * 1000)}"
        for shard, state in list(self.shards.items()):
            changes: list[tuple[str | None, AlertChange]] = [(cause, c) for c in state.engine.on_tick(now)]
            publication = Publication()
            if changes:
                _, publication = await asyncio.to_thread(self._apply_sql, changes, now)
            # Commit even when nothing fired, so a restart keeps the timers' state.
            await self._commit(shard, [], publication, [], now)


def _shard_of_stream(name: bytes | str) -> int:
    text = name.decode() if isinstance(name, bytes) else name
    return int(text.rsplit("{", 1)[1].rstrip("}"))
