"""``hypervision sources check``, ``poll`` and ``simulate``: the feed side from the command line."""

from __future__ import annotations

import asyncio
import secrets
import signal
from contextlib import AsyncExitStack
from pathlib import Path

import click
import uvicorn

from adapters.registry import check_sources_file, load_sources
from adapters.simulator.ami_server import HelplineSimulation
from adapters.simulator.lorawan_publisher import LorawanPublisher, PublisherConfig
from adapters.simulator.server import FeedServer
from adapters.simulator.world import SCENARIOS, TZ, is_night
from adapters.source import SourceConfig
from hypervision import metrics
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.poller import start_poller
from hypervision.runtime import open_runtime, utc_now
from hypervision.stopping import stop_tasks


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
        if (server := metrics.start_metrics_server(settings.metrics_port, settings.metrics_host)) is not None:
            stack.callback(server.shutdown)
        poller = await start_poller(runtime, configured)
        try:
            await stop.wait()
        finally:
            await poller.stop()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8001, show_default=True, help="HTTP port of the pulled feeds.")
@click.option("--scenario", type=click.Choice(SCENARIOS), default="normal-day", show_default=True)
@click.option(
    "--ami-port", type=int, default=None, help="Also run a PBX: an Asterisk AMI server on this port."
)
@click.option(
    "--ami-secret", envvar="HV_SIM_AMI_SECRET", default=None, help="AMI secret (default: random, printed)."
)
@click.option(
    "--queue-log",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the PBX's queue_log to this file.",
)
@click.option(
    "--push-to", "push_to", default=None, help="Also push LoRaWAN uplinks to this Hypervision API URL."
)
@click.option("--ingest-key", envvar="HV_SIM_INGEST_KEY", default=None, help="Ingest key for --push-to.")
@click.option("--mqtt", "mqtt", default=None, help="Also publish uplinks to this MQTT broker (host:port).")
def simulate(
    host: str,
    port: int,
    scenario: str,
    ami_port: int | None,
    ami_secret: str | None,
    queue_log: Path | None,
    push_to: str | None,
    ingest_key: str | None,
    mqtt: str | None,
) -> None:
    """Serve the simulated territory: every pulled feed over HTTP, and optionally the pushed ones."""
    if push_to and not ingest_key:
        raise click.ClickException("--push-to needs an ingest key (--ingest-key or HV_SIM_INGEST_KEY)")
    asyncio.run(_simulate(host, port, scenario, ami_port, ami_secret, queue_log, push_to, ingest_key, mqtt))


async def _simulate(
    host: str,
    port: int,
    scenario: str,
    ami_port: int | None,
    ami_secret: str | None,
    queue_log: Path | None,
    push_to: str | None,
    ingest_key: str | None,
    mqtt: str | None,
) -> None:
    clock = utc_now
    server = uvicorn.Server(
        uvicorn.Config(FeedServer(scenario, clock=clock).app(), host=host, port=port, log_level="warning")
    )
    extras: list[asyncio.Task[None]] = []
    click.echo(f"simulated feeds ({scenario}) on http://{host}:{port}/")
    if ami_port is not None or queue_log is not None:
        secret = ami_secret or secrets.token_urlsafe(12)
        pbx = HelplineSimulation(
            scenario, clock=clock, username="hypervision", secret=secret, queue_log=queue_log
        )
        if ami_port is not None:
            await pbx.start(host, ami_port)
            click.echo(f"Asterisk AMI on {host}:{ami_port} (user hypervision, secret {secret})")
        if queue_log is not None:
            click.echo(f"queue_log written to {queue_log}")
        extras.append(asyncio.create_task(pbx.run()))
    if push_to or mqtt:
        mqtt_host, _, mqtt_port = (mqtt or "").partition(":")
        publisher = LorawanPublisher(
            PublisherConfig(
                api_url=push_to,
                token=ingest_key,
                mqtt_host=mqtt_host or None,
                mqtt_port=int(mqtt_port or 1883),
                scenario=scenario,
            ),
            clock=clock,
            is_night=lambda now: is_night(now.astimezone(TZ)),
        )
        extras.append(asyncio.create_task(publisher.run()))
        click.echo(f"LoRaWAN uplinks pushed to {push_to or ''} {mqtt or ''}".rstrip())
    try:
        await server.serve()
    finally:
        await stop_tasks(extras)
