"""``hypervision logbook verify|export``: check the hash chain, export the crisis logbook."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import orjson
from sqlmodel import Session

from hypervision import logbook, logbook_report, migrations
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.db import make_engine
from hypervision.runtime import utc_now


@main.group("logbook")
def logbook_group() -> None:
    """The crisis logbook (main courante)."""


@logbook_group.command("verify")
def logbook_verify() -> None:
    """Walk the hash chain; exit 1 naming the first broken entry."""
    engine = make_engine(Settings().sqlalchemy_url)
    migrations.upgrade(engine)
    try:
        with Session(engine) as session:
            verdict = logbook.verify(session)
    finally:
        engine.dispose()
    if not verdict.ok:
        click.echo(verdict.describe(), err=True)
        raise SystemExit(1)
    click.echo(verdict.describe())


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} needs a time zone (e.g. 2026-11-30T08:00:00+01:00)")
    return moment


@logbook_group.command("export")
@click.option("--from", "start", help="ISO 8601 time with a zone (inclusive).")
@click.option("--to", "end", help="ISO 8601 time with a zone (exclusive).")
@click.option("--format", "fmt", type=click.Choice(["csv", "html", "json"]), default="csv", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
def logbook_export(start: str | None, end: str | None, fmt: str, output: Path | None) -> None:
    """Export entries for the after-action review."""
    settings = Settings()
    begin, finish = _moment(start), _moment(end)
    engine = make_engine(settings.sqlalchemy_url)
    migrations.upgrade(engine)
    try:
        with Session(engine) as session:
            rows = [logbook.entry_public(e) for e in logbook.entries(session, start=begin, end=finish)]
            verdict = logbook.verify(session)
    finally:
        engine.dispose()
    if fmt == "csv":
        text = logbook_report.to_csv(rows)
    elif fmt == "json":
        text = orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode()
    else:
        text = logbook_report.to_html(
            rows,
            title="Main courante — rapport de retour d'expérience",
            period=f"{start or '…'} → {end or '…'}",
            generated_at=utc_now(),
            chain=verdict.describe(),
            tz=settings.territory_tz,
        )
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{len(rows)} entries written to {output}")
