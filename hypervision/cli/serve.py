"""``hypervision serve`` (API + hub) and ``hypervision worker`` (rules and picture) for production."""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack

import click
import uvicorn

from hypervision import metrics
from hypervision.api.app import create_app
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.runtime import open_runtime
from hypervision.worker import Worker


@main.command()
@click.option("--host", default=None, help="Interface to bind (default HV_HOST).")
@click.option("--port", type=int, default=None, help="Port (default HV_PORT).")
@click.option("--with-worker", is_flag=True, help="Also run a worker in this process (small sites).")
def serve(host: str | None, port: int | None, with_worker: bool) -> None:
    """Run the API, the WebSocket hub and the wall screen."""
    settings = Settings()
    if settings.secret_key is None:
        raise click.ClickException("HV_SECRET_KEY must be set for `serve` (e.g. `openssl rand -base64 32`)")
    app = create_app(settings, run_worker=with_worker)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level="info",
        proxy_headers=True,
        ws_per_message_deflate=True,
        log_config=None,  # our logging set-up (text or JSON) applies to uvicorn's lines too
    )


@main.command()
@click.option("--name", default=None, help="Consumer name (default: host-pid).")
def worker(name: str | None) -> None:
    """Run a worker: consume readings, update the picture, evaluate the rules."""
    asyncio.run(_run_worker(Settings(), name))


async def _run_worker(settings: Settings, name: str | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        runtime = await open_runtime(settings, stack)
        if (server := metrics.start_metrics_server(settings.metrics_port, settings.metrics_host)) is not None:
            stack.callback(server.shutdown)
        await Worker(
            redis=runtime.redis,
            db=runtime.db,
            settings=settings,
            rules=runtime.load_rule_set,
            clock=runtime.clock,
            name=name,
            reload_rules=runtime.reload_rule_set,
        ).run(stop)
