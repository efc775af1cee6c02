"""Shared fixtures: a real redis-server, a real database (SQLite, and PostgreSQL when configured), the app.

- HV_TEST_REDIS_URL: use that Redis instead of starting the embedded one (its db is flushed per test).
- HV_TEST_DATABASE_URL: also run every database test against PostgreSQL, each session in a fresh
  temporary database that is dropped at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from redis.asyncio import Redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hypervision import auth
from hypervision.config import Settings
from hypervision.db import session_scope
from hypervision.embedded_redis import EmbeddedRedis
from hypervision.models.user import Role, TokenKind
from hypervision.runtime import Runtime, open_runtime
from tests.support import FakeClock, LiveServer, start_server, stop_server

PG_URL = os.environ.get("HV_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("HV_TEST_REDIS_URL")
    if external:
        yield external
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), persist=False) as server:
        yield server.url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this test session (None when not configured)."""
    if not PG_URL:
        yield None
        return
    name = f"hv_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


DB_KINDS = ["sqlite", "postgres"] if PG_URL else ["sqlite"]


@pytest.fixture(params=DB_KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_database: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hv.db'}"
        return
    assert postgres_database is not None
    engine = create_engine(postgres_database)
    with engine.begin() as conn:  # a clean schema for every test
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    yield postgres_database


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        redis_url=redis_url,
        database_url=db_url,
        secret_key=SecretStr("test-secret-" + secrets.token_hex(8)),
        reading_shards=2,
        worker_block_ms=20,
        tick_interval_s=0.2,
        lease_ttl_ms=3000,
        hub_heartbeat_s=5,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def runtime(settings: Settings, redis: Redis) -> AsyncIterator[Runtime]:
    async with AsyncExitStack() as stack:
        yield await open_runtime(settings, stack)


MakeToken = Callable[..., str]


@pytest.fixture
def make_token(runtime: Runtime) -> MakeToken:
    """A bearer token for a new user of ``role`` (or a screen token / ingest key)."""

    def make(role: Role | str, *, teams: list[str] | None = None, source: str | None = None) -> str:
        role = Role(role)
        now = datetime.now(UTC)
        with session_scope(runtime.db) as session:
            if role == Role.SCREEN:
                return auth.issue_token(
                    session, kind=TokenKind.SCREEN, secret=runtime.secret, now=now, ttl=None, name="wall"
                )
            if role == Role.INGEST:
                return auth.issue_token(
                    session,
                    kind=TokenKind.INGEST,
                    secret=runtime.secret,
                    now=now,
                    ttl=None,
                    name=source or "feed",
                    source=source,
                )
            if role == Role.TEAM and not teams:
                teams = ["helpline"]
            user = auth.create_user(
                session,
                f"{role.value}-{secrets.token_hex(3)}",
                secrets.token_urlsafe(16),
                role,
                teams=teams,
                now=now,
            )
            return auth.issue_token(
                session,
                kind=TokenKind.SESSION,
                secret=runtime.secret,
                now=now,
                ttl=timedelta(hours=1),
                user=user,
            )

    return make


@pytest.fixture
async def live(runtime: Runtime) -> AsyncIterator[LiveServer]:
    """The real app on a real port, with its hub and an in-process worker."""
    server, task, host = await start_server(runtime)
    try:
        yield LiveServer(f"http://{host}", f"ws://{host}/ws", runtime, server)
    finally:
        await stop_server(server, task)
