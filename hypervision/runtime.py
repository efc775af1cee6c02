"""The composition root's resources: Redis (embedded or remote), the SQL engine, the clock, the rules."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from redis.asyncio import BlockingConnectionPool, Connection, Redis
from redis.connection import HiredisRespSerializer
from redis.utils import HIREDIS_AVAILABLE
from sqlalchemy.engine import Engine as SqlEngine

from alerts.loader import DEFAULT_RULES, RuleSet, load_rules
from hypervision import migrations
from hypervision.config import Settings
from hypervision.db import make_engine
from hypervision.embedded_redis import EmbeddedRedis
from hypervision.ingest import Ingestor

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

REDIS_MAX_CONNECTIONS = 100  # per process; more requests wait (up to 10 s) instead of failing


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """What every part of a process shares; built once by the CLI, the app or a test."""

    settings: Settings
    redis: Redis
    db: SqlEngine
    secret: str
    clock: Clock = utc_now
    embedded_redis: EmbeddedRedis | None = None
    rules: RuleSet | None = None
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def ingestor(self) -> Ingestor:
        return Ingestor(self.redis, self.settings)

    def rule_files(self) -> list[Path]:
        return list(self.settings.rules_files) or [DEFAULT_RULES]

    def load_rule_set(self) -> RuleSet:
        """The rules in force; loaded once, then swapped only by an explicit reload."""
        if self.rules is None:
            self.rules = load_rules(self.rule_files())
        return self.rules

    def reload_rule_set(self) -> RuleSet:
        """Read the rule files again (raises RulesError and keeps the running rules on a bad file)."""
        self.rules = load_rules(self.rule_files())
        return self.rules


async def open_runtime(
    settings: Settings, stack: AsyncExitStack, *, clock: Clock = utc_now, create_tables: bool = True
) -> Runtime:
    """Start or connect to Redis, open the database, and register their clean-up on ``stack``."""
    embedded: EmbeddedRedis | None = None
    url = settings.redis_url
    if not url:
        embedded = EmbeddedRedis(settings.data_dir / "redis")
        url = embedded.start()
        stack.callback(embedded.stop)
    redis = redis_client(url)
    stack.push_async_callback(redis.aclose)
    db = make_engine(settings.sqlalchemy_url)
    stack.callback(db.dispose)
    if create_tables:
        # Through the migrations, so a database first opened by `serve` or the demo upgrades later.
        await asyncio.to_thread(migrations.upgrade, db)
    secret = settings.secret_key.get_secret_value() if settings.secret_key else _local_secret(settings)
    return Runtime(settings=settings, redis=redis, db=db, secret=secret, clock=clock, embedded_redis=embedded)


class HiredisPackConnection(Connection):
    """Commands packed in C by hiredis, as redis-py's sync client does; its asyncio client packs
    every argument in Python, which cost the worker ~40 µs a reading (a batch's MULTI carries
    ~20 arguments per reading: picture, history, engine state, XACK). Same bytes on the wire."""

    _serializer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        return self._serializer.pack(*args)


def redis_client(url: str) -> Redis:
    """The asyncio client every process uses."""
    # A burst (200 screens reconnecting at once, each reading a snapshot) waits for a connection:
    # the default pool refuses the 101st with "Too many connections".
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_MAX_CONNECTIONS,
        timeout=10,
        health_check_interval=30,
        socket_keepalive=True,
        **({"connection_class": HiredisPackConnection} if HIREDIS_AVAILABLE else {}),
    )
    return Redis.from_pool(pool)


def _local_secret(settings: Settings) -> str:
    """A per-installation secret kept under data_dir when HV_SECRET_KEY is not set (demo and tests)."""
    path = settings.data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    log.warning("HV_SECRET_KEY is not set: using a generated key stored in %s", path)
    return value
