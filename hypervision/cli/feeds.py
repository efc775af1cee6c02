"""``hypervision sources check``, ``poll`` and ``simulate``: the feed side from the command line."""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack
from pathlib import Path

import click
import uvicorn

from adapters.registry import check_sources_file, load_sources
from adapters.simulator.server import FeedServer
from adapters.simulator.world import SCENARIOS
from adapters.source import SourceConfig
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.poller import start_poller
from hypervision.runtime import open_runtime


@main.group()
def sources() -> None:
    """Pulled feed sources (the YAML file named by HV_SOURCES_FILE)."""


@sources.command("check")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def sources_check(files: tuple[Path, ...]) -> None:
    """Validate sources files without polling anything; exit 1 naming every problem."""
    problems = [p for path in files for p in check_sources_file(path)]
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"{len(files)} file(s) valid")


@main.command()
def poll() -> None:
    """Poll every source of HV_SOURCES_FILE and run the pushed feeds configured (AMI, MQTT, queue_log)."""
    settings = Settings()
    configured = load_sources(settings.sources_file) if settings.sources_file else []
    if not configured and not (settings.ami_host or settings.mqtt_host or settings.queue_log_path):
        raise click.ClickException("nothing to poll: set HV_SOURCES_FILE (and/or HV_AMI_HOST, HV_MQTT_HOST)")
    asyncio.run(_poll(settings, configured))


async def _poll(settings: Settings, configured: list[SourceConfig]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        runtime = await open_runtime(settings, stack)
        poller = await start_poller(runtime, configured)
        try:
            await stop.wait()
        finally:
            await poller.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True)
@click.option("--scenario", type=click.Choice(SCENARIOS), default="normal-day", show_default=True)
def simulate(host: str, port: int, scenario: str) -> None:
    """Serve every pulled feed format of the simulated territory over HTTP."""
    server = FeedServer(scenario)
    click.echo(f"simulated feeds ({scenario}) on http://{host}:{port}/")
    uvicorn.run(server.app(), host=host, port=port, log_level="warning")
