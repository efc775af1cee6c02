"""Plain-text form of a rule's condition, so a backtest line says why an alert fired."""

from __future__ import annotations

from typing import Any

from alerts.duration import format_duration
from alerts.schema import Absent, AllOf, AnyOf, Compare, Not, Rule, ScheduleCond


def _value(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe(cond: Any, metric: str | None = None) -> str:
    """E.g. `mean(pm10, 24h) > 50`, `no reading for 2h`, `powerState == off and night`."""
    if isinstance(cond, Compare):
        name = cond.metric or metric or "value"
        if cond.agg != "latest":
            assert cond.over is not None
            name = f"{cond.agg}({name}, {format_duration(cond.over)})"
        text = f"{name} {cond.op} {_value(cond.value)}"
        return f"{text} ({cond.consecutive} in a row)" if cond.consecutive > 1 else text
    if isinstance(cond, Absent):
        what = f" of {cond.metric}" if cond.metric else ""
        return f"no reading{what} for {format_duration(cond.absent_for)}"
    if isinstance(cond, ScheduleCond):
        sched = cond.schedule
        parts: list[str] = []
        if sched.sun:
            parts.append(sched.sun)
        if sched.hours:
            parts.append("hours " + ", ".join(sched.hours))
        if sched.weekdays:
            parts.append("on " + " ".join(sched.weekdays))
        if sched.opening_hours:
            parts.append(f"open ({sched.opening_hours})")
        return " and ".join(parts)
    if isinstance(cond, AllOf):
        return " and ".join(_nested(c, metric) for c in cond.all)
    if isinstance(cond, AnyOf):
        return " or ".join(_nested(c, metric) for c in cond.any)
    if isinstance(cond, Not):
        return f"not {_nested(cond.not_, metric)}"
    raise TypeError(f"unknown condition {cond!r}")


def _nested(cond: Any, metric: str | None) -> str:
    text = describe(cond, metric)
    return f"({text})" if isinstance(cond, AllOf | AnyOf) else text


def describe_rule(rule: Rule) -> str:
    """The firing condition, with `for`, clear and hysteresis when the rule has them."""
    text = describe(rule.when, rule.select.metric)
    if rule.for_:
        text += f" for {format_duration(rule.for_)}"
    if rule.clear is not None:
        text += f"; clears when {describe(rule.clear, rule.select.metric)}"
        if rule.keep_firing_for:
            text += f" for {format_duration(rule.keep_firing_for)}"
    elif rule.keep_firing_for:
        text += f"; keeps firing {format_duration(rule.keep_firing_for)} after it stops holding"
    return text
