"""``hypervision demo``: everything in one process on a fresh machine, with a simulated territory."""

from __future__ import annotations

import asyncio

import click

from adapters.simulator.world import SCENARIOS
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.demo import run_demo


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--scenario", type=click.Choice(SCENARIOS), default="normal-day", show_default=True)
def demo(host: str, port: int, scenario: str) -> None:
    """Run the demo: embedded Redis, SQLite, API + hub, worker and a simulated agglomeration."""
    asyncio.run(run_demo(Settings(), host=host, port=port, scenario=scenario))
