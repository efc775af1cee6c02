"""The ``hypervision`` command: every subcommand module registers itself on the one group."""

from hypervision.cli import (  # noqa: F401  (registration by import)
    db,
    demo,
    devices,
    feeds,
    logbook,
    purge,
    rules,
    serve,
    tokens,
    users,
)
from hypervision.cli.base import main

__all__ = ["main"]
