"""Timed duties of the room: escalate unacknowledged alerts and overdue tasks, purge old free text.

Run by the worker that holds shard 0 (one per deployment, handed over with the lease), so no duty
runs twice when several workers share the load.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from redis.asyncio import Redis
from sqlalchemy.engine import Engine as SqlEngine

from alerts.escalation import due_escalations
from alerts.loader import RuleSet
from hypervision import alert_store, bus, events, privacy, task_store
from hypervision.config import Settings
from hypervision.db import session_scope
from hypervision.events import Publication
from hypervision.hooks import MoveHook, publish_moves

log = logging.getLogger(__name__)

PURGE_EVERY_S = 24 * 3600


class Housekeeper:
    def __init__(
        self,
        *,
        redis: Redis,
        db: SqlEngine,
        settings: Settings,
        rules: Callable[[], RuleSet],
        move_hooks: Sequence[MoveHook],
    ) -> None:
        self.redis = redis
        self.db = db
        self.settings = settings
        self.rules = rules
        self.move_hooks = move_hooks
        self._last: datetime | None = None

    async def maybe_run(self, now: datetime) -> None:
        if (
            self._last is not None
            and (now - self._last).total_seconds() < self.settings.housekeeping_interval_s
        ):
            return
        self._last = now
        publication = await asyncio.to_thread(self._escalate, now)
        if publication:
            await events.publish(self.redis, publication, events_maxlen=self.settings.events_maxlen)
        # At most one purge a day across restarts and hand-overs: the key is the proof it ran.
        if await self.redis.set(bus.PURGE_DONE_KEY, now.isoformat(), nx=True, ex=PURGE_EVERY_S):
            report = await asyncio.to_thread(
                privacy.purge_expired, self.db, now=now, retention_days=self.settings.retention_days
            )
            log.info("privacy purge: %s", report)

    def _escalate(self, now: datetime) -> Publication:
        with session_scope(self.db) as session:
            cause = f"escalation:{int(now.timestamp())}"
            changes = due_escalations(alert_store.open_alerts(session), self.rules(), now)
            moves = alert_store.apply_engine_changes(session, [(cause, c) for c in changes])
            publication = publish_moves(session, moves, self.move_hooks, now)
            publication.extend(task_store.escalate_overdue(session, now))
        for move in moves:
            log.warning(
                "alert %s escalated (%s): %s", move.alert["id"], move.event.value, move.alert["title"]
            )
        return publication
