"""Backtest: replay recorded readings through an engine, time taken from the readings themselves."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from alerts.engine import AlertChange, Engine
from alerts.explain import describe_rule
from alerts.loader import RuleSet
from alerts.schedule import TZ
from hypervision.domain import Reading


class BacktestInputError(ValueError):
    """A line of the readings file is not a valid reading; names the line."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(f"line {line}: {message}")


def backtest(
    rules: RuleSet,
    readings: Iterable[Reading],
    tick_every: timedelta | float = 60.0,
    *,
    until: datetime | None = None,
) -> list[AlertChange]:
    """Every alert change the rules would have produced over these readings.

    The clock is the readings' observation time, never going backwards (a late reading is
    processed at the latest time seen); ticks run every `tick_every` of that clock between
    readings, and up to `until` after the last one (so absence and `for` timers can complete).
    """
    step = tick_every.total_seconds() if isinstance(tick_every, timedelta) else float(tick_every)
    if step <= 0:
        raise ValueError("tick_every must be positive")
    engine = Engine(rules)
    out: list[AlertChange] = []
    now: datetime | None = None
    next_tick: datetime | None = None
    for reading in readings:
        at = reading.observed_at_utc
        if now is None or at > now:
            now = at
        if next_tick is None:
            next_tick = now + timedelta(seconds=step)
        while next_tick <= now:
            out.extend(engine.on_tick(next_tick))
            next_tick += timedelta(seconds=step)
        out.extend(engine.on_reading(reading, now))
    if until is not None and next_tick is not None:
        while next_tick <= until:
            out.extend(engine.on_tick(next_tick))
            next_tick += timedelta(seconds=step)
    return out


def parse_jsonl(lines: Iterable[str]) -> Iterator[Reading]:
    """Readings from JSON lines (blank lines and lines starting with # are skipped)."""
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            yield Reading.model_validate_json(text)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "reading"
            raise BacktestInputError(number, f"{where}: {first['msg']}") from err


def format_change(change: AlertChange, rules: RuleSet | None = None) -> str:
    """One line per change: when (Paris time), what, severity, rule, subject, value and title;
    with `rules`, a firing or pending line also says why (the rule's condition)."""
    when = change.at.astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")
    subject = ",".join(f"{k}={v}" for k, v in sorted(change.labels.items()) if k != "rule")
    value = "" if change.value is None else f" value={change.value}"
    what = f"{change.event.value:<8} {change.severity.value:<9}"
    line = f"{when}  {what} {change.rule_id} [{subject}]{value}  {change.title}"
    rule = rules.by_id.get(change.rule_id) if rules is not None else None
    if rule is not None and change.event.value in ("pend", "fire"):
        line += f"  <- {describe_rule(rule)}"
    return line


@dataclass(slots=True)
class Summary:
    """Counts per rule of what a backtest produced, for a short report."""

    fired: dict[str, int] = field(default_factory=dict)
    resolved: dict[str, int] = field(default_factory=dict)
    changes: int = 0

    @classmethod
    def of(cls, changes: Iterable[AlertChange]) -> Summary:
        summary = cls()
        for change in changes:
            summary.changes += 1
            if change.event.value == "fire":
                summary.fired[change.rule_id] = summary.fired.get(change.rule_id, 0) + 1
            elif change.event.value == "resolve":
                summary.resolved[change.rule_id] = summary.resolved.get(change.rule_id, 0) + 1
        return summary


def change_to_dict(change: AlertChange, rules: RuleSet | None = None) -> dict[str, Any]:
    """JSON-ready form of a change (API and CLI output); with `rules`, `because` is the condition."""
    rule = rules.by_id.get(change.rule_id) if rules is not None else None
    return {
        "at": change.at.isoformat(),
        "event": change.event.value,
        "rule_id": change.rule_id,
        "fingerprint": change.fingerprint,
        "severity": change.severity.value,
        "labels": dict(change.labels),
        "title": change.title,
        "description": change.description,
        "value": change.value,
        "public": change.public,
        "actions": [asdict(action) for action in change.actions],
        "because": describe_rule(rule) if rule is not None else None,
    }
