"""Alembic environment: the target is every table registered under hypervision.models."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

import hypervision.models  # noqa: F401  (registers every table on the metadata)
from hypervision.config import Settings
from hypervision.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def render_item(kind: str, obj: Any, autogen_context: Any) -> str | bool:
    """Write SQLModel's own types as the SQLAlchemy types they store, so revisions need no sqlmodel."""
    if kind == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length!r})" if obj.length else "sa.String()"
    if kind == "type" and isinstance(obj, TypeDecorator) and type(obj).__module__.startswith("sqlmodel"):
        impl = obj.impl_instance
        if isinstance(impl, DateTime):
            return f"sa.DateTime(timezone={impl.timezone!r})"
    return False


def _url() -> str:
    """The URL set by the caller, else HV_DATABASE_URL (the `alembic` command line)."""
    return config.get_main_option("sqlalchemy.url") or Settings().sqlalchemy_url


def _options() -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "render_item": render_item,
        "compare_type": True,
        # SQLite cannot ALTER most things: batch mode copies the table, as Alembic documents.
        "render_as_batch": True,
    }


def run_offline() -> None:
    context.configure(url=_url(), literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed over by hypervision.migrations (tests, `db upgrade`)
        context.configure(connection=connection, **_options())
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, **_options())
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
