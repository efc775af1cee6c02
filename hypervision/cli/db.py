"""``hypervision db upgrade|current``: the database schema, through Alembic migrations."""

from __future__ import annotations

import click

from hypervision import migrations
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.db import make_engine


@main.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


def _where(url: str) -> str:
    """The URL without credentials, for messages."""
    return url.split("@")[-1]


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Create or upgrade the schema of HV_DATABASE_URL (safe to run again; run it before a new release)."""
    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        before, after = migrations.upgrade(engine, revision)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"schema already at {after} on {_where(settings.sqlalchemy_url)}")
    else:
        click.echo(
            f"schema upgraded from {before or 'nothing'} to {after} on {_where(settings.sqlalchemy_url)}"
        )


@db_group.command("current")
def db_current() -> None:
    """Print the schema revision of HV_DATABASE_URL and the newest one this release knows."""
    settings = Settings()
    engine = make_engine(settings.sqlalchemy_url)
    try:
        current = migrations.current_revision(engine)
    finally:
        engine.dispose()
    head = migrations.head_revision()
    click.echo(f"database: {current or 'none'}; this release: {head}")
    if current != head:
        raise SystemExit(1)
