"""Rules test kit: a reading factory and a driver feeding readings and ticks at times after T0."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from alerts.engine import AlertChange, Engine
from alerts.loader import load_rules_text
from hypervision.domain import Reading

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris


def reading(
    value: float | str,
    *,
    at: float = 0.0,
    source: str = "air:station:FR04143",
    domain: str = "air",
    metric: str = "no2",
    zone: str | None = "dijon-centre",
    unit: str = "µg/m³",
    attrs: dict[str, Any] | None = None,
) -> Reading:
    """A reading observed `at` seconds after T0."""
    return Reading(
        source=source,
        domain=domain,
        metric=metric,
        value=value,
        unit=unit,
        observed_at=T0 + timedelta(seconds=at),
        zone=zone,
        attrs=attrs or {},
    )


def engine_for(yaml_text: str) -> Engine:
    return Engine(load_rules_text(yaml_text, name="test.yaml"))


class Driver:
    """Feeds readings and ticks at times relative to T0, collecting changes."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.changes: list[AlertChange] = []

    def read(self, value: float | str, at: float, **kw: Any) -> list[AlertChange]:
        out = self.engine.on_reading(reading(value, at=at, **kw), T0 + timedelta(seconds=at))
        self.changes.extend(out)
        return out

    def tick(self, at: float) -> list[AlertChange]:
        out = self.engine.on_tick(T0 + timedelta(seconds=at))
        self.changes.extend(out)
        return out

    def events(self, changes: Iterable[AlertChange] | None = None) -> list[str]:
        return [c.event.value for c in (self.changes if changes is None else changes)]
