"""The root command group, logging set-up and helpers shared by subcommands."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import TypeVar

import click

from hypervision.config import Settings
from hypervision.logs import configure_logging
from hypervision.runtime import Runtime, open_runtime

T = TypeVar("T")


@click.group()
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    envvar="HV_LOG_FORMAT",
    show_default=True,
    help="json: one structured object per line, for a log collector.",
)
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(log_format: str, verbose: bool) -> None:
    """Hypervision: crisis and hypervision control-room backend."""
    configure_logging(json_format=log_format == "json", verbose=verbose)


def run_with_runtime(body: Callable[[Runtime], Awaitable[T]], settings: Settings | None = None) -> T:
    """Open Redis and the database for a one-shot command, run ``body``, close them."""

    async def go() -> T:
        async with AsyncExitStack() as stack:
            runtime = await open_runtime(settings or Settings(), stack)
            return await body(runtime)

    return asyncio.run(go())
