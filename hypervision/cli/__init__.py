"""The ``hypervision`` command: every subcommand module registers itself on the one group."""

from hypervision.cli import db, demo, devices, logbook, purge, rules, serve, tokens, users  # noqa: F401  (registration by import)
from hypervision.cli.base import main

__all__ = ["main"]
