"""Schema migrations with Alembic: upgrade a database to the newest revision, tell where it stands.

``hypervision db upgrade`` calls ``upgrade``. A database created before migrations existed (by
``create_schema``, which tests and old demos used) has the tables but no ``alembic_version``: it is
stamped at the baseline revision first, then upgraded, so no table is created twice.

Every process upgrades on start, and several start at once (API replicas, workers): the upgrade runs
in one transaction that first takes a lock (an advisory lock on PostgreSQL, the write lock on
SQLite), so the first process migrates and the others find the schema up to date.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

HERE = Path(__file__).resolve().parent
BASELINE = "0001"
# Key of the PostgreSQL advisory lock that serializes upgrades (any constant unique to this use).
LOCK_KEY = 0x4856_0009


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(HERE / "alembic.ini"))
    config.set_main_option("script_location", str(HERE))
    if url:
        # ConfigParser interpolation: a '%' in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return _current(conn)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to ``revision``; returns (revision before, revision after)."""
    config = alembic_config()
    with engine.connect() as conn:
        _lock(conn)
        before = _current(conn)
        config.attributes["connection"] = conn
        if before is None and _has_tables(conn):
            command.stamp(config, BASELINE)
            before = BASELINE
        command.upgrade(config, revision)
        after = _current(conn)
        conn.commit()
    return before, after


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)


def _lock(conn: Connection) -> None:
    """Serialize upgrades: held until the transaction ends (commit or rollback)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    elif conn.dialect.name == "sqlite":
        # Take the write lock before reading the revision: in WAL mode a reader that later tries
        # to write after another process committed fails instead of waiting.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _has_tables(conn: Connection) -> bool:
    names = set(inspect(conn).get_table_names())
    return bool(names - {"alembic_version"})
