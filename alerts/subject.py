"""Condition state of one (rule, subject): phase, timers, severity and per-leaf series; JSON codec."""

from __future__ import annotations

from typing import Any

import orjson

from alerts.compiled import CompiledRule, fingerprint
from alerts.condition import Series
from alerts.window import Window
from hypervision.domain import Reading, Severity

INACTIVE, PENDING, FIRING = "", "pending", "firing"
STATE_VERSION = 1


class Subject:
    """Mutable, plain-data state the engine keeps per state key `rule_id|fingerprint`."""

    __slots__ = (
        "clear_since",
        "fp",
        "key",
        "labels",
        "last",
        "last_emit",
        "last_t",
        "last_value",
        "loaded_ctx",
        "phase",
        "rule",
        "series",
        "severity",
        "since",
        "subject",
    )

    def __init__(self, rule: CompiledRule, subject: tuple[str, ...]) -> None:
        self.rule = rule
        self.subject = subject
        self.labels = rule.labels_of(subject)
        self.fp = fingerprint(rule.id, self.labels)
        self.key = f"{rule.id}|{self.fp}"
        self.phase = INACTIVE
        self.since = 0.0  # start of pending, or firing time
        self.clear_since: float | None = None
        self.severity = rule.rule.severity
        self.last_emit = 0.0
        self.last_value: float | str | None = None
        # The latest reading (kept by reference: cheap) gives labels and template values.
        self.last: Reading | None = None
        self.last_t = 0.0
        self.loaded_ctx: dict[str, Any] = {}  # the same, as restored from persisted state
        self.series: list[dict[str, Series]] = [{} for _ in rule.leaves]

    @property
    def ctx(self) -> dict[str, Any]:
        last = self.last
        if last is None:
            return self.loaded_ctx
        return {
            "source": last.source,
            "metric": last.metric,
            "domain": last.domain.value,
            "zone": last.zone,
            "unit": last.unit,
            "value": last.value,
            "t": self.last_t,
        }

    @property
    def latest_value(self) -> float | str | None:
        return self.last.value if self.last is not None else self.loaded_ctx.get("value")

    @property
    def blank(self) -> bool:
        """Nothing worth persisting: quiet and the rule keeps no series memory."""
        return self.phase == INACTIVE and not self.rule.persist_series

    def dump(self) -> bytes:
        series = [
            {
                name: [s.value, s.t, s.run, s.window.dump_json() if s.window is not None else None]
                for name, s in per_leaf.items()
            }
            for per_leaf in self.series
        ]
        return orjson.dumps(
            {
                "v": STATE_VERSION,
                "shape": self.rule.shape,
                "subject": list(self.subject),
                "phase": self.phase,
                "since": self.since,
                "clear_since": self.clear_since,
                "severity": self.severity.value,
                "last_emit": self.last_emit,
                "last_value": self.last_value,
                "ctx": self.ctx,
                "series": series if self.rule.persist_series else [],
            }
        )

    @classmethod
    def load(cls, rule: CompiledRule, raw: bytes) -> Subject:
        """Rebuild from `dump`; raises ValueError on anything unexpected."""
        try:
            data = orjson.loads(raw)
            if data.get("v") != STATE_VERSION:
                raise ValueError("state version")
            subject = cls(rule, tuple(str(x) for x in data["subject"]))
            if data["phase"] not in (INACTIVE, PENDING, FIRING):
                raise ValueError("phase")
            subject.phase = data["phase"]
            subject.since = float(data["since"])
            cs = data["clear_since"]
            subject.clear_since = float(cs) if cs is not None else None
            subject.severity = Severity(data["severity"])
            subject.last_emit = float(data["last_emit"])
            subject.last_value = data["last_value"]
            subject.loaded_ctx = dict(data["ctx"])
            # A changed condition makes old series data meaningless: keep the alert, drop the data.
            if data["shape"] == rule.shape and len(data["series"]) == len(rule.leaves):
                for leaf, per_leaf in zip(rule.leaves, data["series"], strict=True):
                    for name, (value, t, run, window) in per_leaf.items():
                        series = leaf.new_series()
                        series.value, series.t, series.saved_t, series.run = (
                            value,
                            float(t),
                            float(t),
                            int(run),
                        )
                        if window is not None and series.window is not None:
                            series.window = Window.load(series.window.span, window)
                        subject.series[leaf.index][name] = series
            return subject
        except (KeyError, TypeError, ValueError, orjson.JSONDecodeError) as err:
            raise ValueError(f"bad engine state for {rule.id}: {err}") from err
