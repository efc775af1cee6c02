"""Helpers for the pulled-feed parser tests: recorded payloads and JSON surgery."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parents[1] / "fixtures"


def fixture(family: str, name: str) -> bytes:
    return (FIXTURES / family / name).read_bytes()


def doc(family: str, name: str) -> Any:
    return json.loads(fixture(family, name))


def mutated(family: str, name: str, change: Callable[[Any], None]) -> bytes:
    """The recorded payload with one change applied: the broken variant of a real feed."""
    data = doc(family, name)
    change(data)
    return json.dumps(data).encode()


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def by_metric(readings: list[Any]) -> dict[str, Any]:
    return {r.metric: r for r in readings}
