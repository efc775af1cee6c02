"""Compiled conditions: leaves hold per-series data, nodes evaluate a subject's state at a time."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from datetime import UTC, datetime
from fnmatch import translate
from typing import Any

from alerts.schedule import DEFAULT_LOCATION, schedule_holds
from alerts.schema import Absent, AllOf, AnyOf, Compare, Not, Rule, ScheduleCond
from alerts.window import Window
from hypervision.domain import Reading

_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


class Series:
    """What one leaf remembers about one series (source|metric) of a subject."""

    __slots__ = ("run", "saved_t", "t", "value", "window")

    def __init__(self, window: Window | None = None) -> None:
        self.value: float | str | None = None
        self.t = 0.0  # observation time (epoch seconds) of the latest reading
        self.saved_t = 0.0  # `t` as last persisted (absence persists coarsely)
        self.run = 0  # consecutive readings satisfying the comparison
        self.window = window


class Witness:
    """The value that made the condition true, for the change and the templates."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value: float | str | None = None


def _glob(pattern: str | None) -> re.Pattern[str] | None:
    return re.compile(translate(pattern)) if pattern else None


class Leaf:
    """A condition on readings: selector plus the test; `index` is its slot in the subject."""

    needs_tick = False

    def __init__(self, rule: Rule, node: Compare | Absent, index: int) -> None:
        sel = rule.select
        self.index = index
        self.domain = node.domain or sel.domain
        self.metric = node.metric or sel.metric
        self.source = _glob(node.source or sel.source)
        self.zone = _glob(sel.zone)
        self.attrs = {**sel.attrs, **node.attrs}
        # Most leaves select by domain and metric only, which the engine's index already did.
        self.filtered = bool(self.source is not None or self.zone is not None or self.attrs)

    def matches(self, reading: Reading) -> bool:
        if self.source is not None and not self.source.match(reading.source):
            return False
        if self.zone is not None and (reading.zone is None or not self.zone.match(reading.zone)):
            return False
        return all(reading.attrs.get(k) == v for k, v in self.attrs.items())

    def new_series(self) -> Series:
        return Series()

    def observe(self, series: Series, reading: Reading, t: float) -> bool:
        """Record the reading; return True if persisted state changed."""
        changed = series.value != reading.value
        series.value = reading.value
        series.t = t
        return changed

    def holds(self, series: dict[str, Series], now: float, witness: Witness) -> bool:
        raise NotImplementedError


class CompareLeaf(Leaf):
    def __init__(self, rule: Rule, node: Compare, index: int) -> None:
        super().__init__(rule, node, index)
        self.agg = node.agg
        self.over = node.over
        self.consecutive = node.consecutive
        self.test = _make_test(node.op, node.value)

    def new_series(self) -> Series:
        return Series(Window(self.over) if self.over is not None else None)

    def observe(self, series: Series, reading: Reading, t: float) -> bool:
        changed = super().observe(series, reading, t)
        if series.window is not None:
            value = reading.value
            if isinstance(value, float):
                changed = series.window.add(t, value) or changed
            elif self.agg == "count":  # counting text states (e.g. "fault" reports) is meaningful
                changed = series.window.add(t, 0.0) or changed
        if self.consecutive > 1:
            run = min(series.run + 1, self.consecutive) if self.test(reading.value) else 0
            changed = changed or run != series.run
            series.run = run
        return changed

    def holds(self, series: dict[str, Series], now: float, witness: Witness) -> bool:
        for one in series.values():
            if self.agg != "latest":
                assert one.window is not None
                aggregate = one.window.aggregate(self.agg)
                # Rounded so the alert shows 211.775, not 211.77499999999998.
                value: float | str | None = round(aggregate, 3) if aggregate is not None else None
            else:
                value = one.value
            if value is None:
                continue
            ok = one.run >= self.consecutive if self.consecutive > 1 else self.test(value)
            if ok:
                if witness.value is None:
                    witness.value = value
                return True
        return False


class AbsentLeaf(Leaf):
    needs_tick = True

    def __init__(self, rule: Rule, node: Absent, index: int) -> None:
        super().__init__(rule, node, index)
        self.absent_for = node.absent_for

    def observe(self, series: Series, reading: Reading, t: float) -> bool:
        super().observe(series, reading, t)
        # Persist the last-seen time coarsely: a restart then fires at most 1/20 of the delay early.
        if t - series.saved_t > self.absent_for / 20:
            series.saved_t = t
            return True
        return False

    def holds(self, series: dict[str, Series], now: float, witness: Witness) -> bool:
        if not series:
            return False
        return now - max(one.t for one in series.values()) >= self.absent_for


def _make_test(op: str, ref: Any) -> Callable[[float | str], bool]:
    if op in _NUMERIC_OPS:
        fn, bound = _NUMERIC_OPS[op], float(ref)
        return lambda v: isinstance(v, float) and fn(v, bound)
    if op in ("in", "not in"):
        members = frozenset(float(x) if isinstance(x, int | float) else str(x).lower() for x in ref)
        want = op == "in"
        return lambda v: ((v.lower() if isinstance(v, str) else v) in members) == want
    norm = float(ref) if isinstance(ref, int | float) else str(ref).lower()
    same = op == "=="
    return lambda v: ((v.lower() if isinstance(v, str) else v) == norm) == same


class Node:
    """A compiled condition tree over a subject's leaves."""

    def __init__(
        self,
        kind: str,
        children: tuple[Node, ...] = (),
        leaf: Leaf | None = None,
        schedule: ScheduleCond | None = None,
    ) -> None:
        self.kind = kind
        self.children = children
        self.leaf = leaf
        self.schedule = schedule.schedule if schedule else None
        self.location = DEFAULT_LOCATION

    def holds(self, series: list[dict[str, Series]], now: float, witness: Witness) -> bool:
        kind = self.kind
        if kind == "leaf":
            assert self.leaf is not None
            return self.leaf.holds(series[self.leaf.index], now, witness)
        if kind == "all":
            return all(child.holds(series, now, witness) for child in self.children)
        if kind == "any":
            return any(child.holds(series, now, witness) for child in self.children)
        if kind == "not":
            return not self.children[0].holds(series, now, Witness())
        assert self.schedule is not None
        sched = self.schedule
        return schedule_holds(
            datetime.fromtimestamp(now, UTC),
            hours=sched.hours,
            weekdays=sched.weekdays,
            sun_phase=sched.sun,
            opening=sched.opening_hours,
            location=self.location,
        )


def compile_condition(rule: Rule, cond: Any, leaves: list[Leaf]) -> Node:
    """Compile a schema condition; leaves are appended to `leaves` (shared by when/clear/levels)."""
    if isinstance(cond, Compare):
        leaf: Leaf = CompareLeaf(rule, cond, len(leaves))
        leaves.append(leaf)
        return Node("leaf", leaf=leaf)
    if isinstance(cond, Absent):
        leaf = AbsentLeaf(rule, cond, len(leaves))
        leaves.append(leaf)
        return Node("leaf", leaf=leaf)
    if isinstance(cond, ScheduleCond):
        return Node("schedule", schedule=cond)
    if isinstance(cond, AllOf):
        return Node("all", tuple(compile_condition(rule, c, leaves) for c in cond.all))
    if isinstance(cond, AnyOf):
        return Node("any", tuple(compile_condition(rule, c, leaves) for c in cond.any))
    if isinstance(cond, Not):
        return Node("not", (compile_condition(rule, cond.not_, leaves),))
    raise TypeError(f"unknown condition {cond!r}")


def needs_tick(node: Node) -> bool:
    if node.kind == "schedule":
        return True
    if node.kind == "leaf":
        assert node.leaf is not None
        return node.leaf.needs_tick
    return any(needs_tick(child) for child in node.children)
