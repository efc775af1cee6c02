"""``hypervision db upgrade``: bring the database schema up to date."""

from __future__ import annotations

import click

from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.db import create_schema, make_engine


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema of HV_DATABASE_URL."""
    settings = Settings()
    create_schema(make_engine(settings.sqlalchemy_url))
    click.echo(f"schema up to date on {settings.sqlalchemy_url.split('@')[-1]}")
