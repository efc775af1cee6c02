"""``hypervision purge``: anonymise the free text of items closed before the retention period."""

from __future__ import annotations

import click

from hypervision import migrations, privacy
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.db import make_engine
from hypervision.runtime import utc_now


@main.command("purge")
@click.option("--days", type=click.IntRange(min=0), help="Retention in days (default: HV_RETENTION_DAYS).")
def purge(days: int | None) -> None:
    """Blank free text (task titles, details, comments, logbook text) older than the retention period.

    Staff identities, states and times stay in the audit trail; the logbook chain still verifies.
    """
    settings = Settings()
    retention = settings.retention_days if days is None else days
    engine = make_engine(settings.sqlalchemy_url)
    migrations.upgrade(engine)
    try:
        report = privacy.purge_expired(engine, now=utc_now(), retention_days=retention)
    finally:
        engine.dispose()
    counts = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in report.as_dict().items())
    click.echo(f"anonymised items closed more than {retention} days ago ({counts})")
