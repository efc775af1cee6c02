"""The shipped rule set: it loads, uses the adapters' metric names, and fires on the situations it names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from alerts.backtest import backtest
from alerts.engine import Engine
from alerts.loader import DEFAULT_RULES, load_rules
from alerts.schedule import TZ
from alerts.schema import AllOf, AnyOf, Compare, Not
from hypervision.domain import Domain, Severity
from tests.alerts.rulekit import reading

RULES = load_rules([DEFAULT_RULES])
H = 3600.0


def paris(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, tzinfo=TZ)


def feed(
    points: list[tuple[float | str, datetime, dict[str, Any]]], until: datetime
) -> list[tuple[str, str, str]]:
    readings = [reading(v, at=0, **kw).model_copy(update={"observed_at": at}) for v, at, kw in points]
    changes = backtest(RULES, readings, timedelta(minutes=1), until=until)
    out: list[tuple[str, str, str]] = []
    severity: dict[str, Severity] = {}
    for c in changes:
        # Throttled value updates are tested elsewhere: keep state and severity changes.
        quiet = c.event.value == "update" and severity.get(c.fingerprint) == c.severity
        severity[c.fingerprint] = c.severity
        if not quiet and not c.rule_id.startswith("stale."):
            out.append((c.rule_id, c.event.value, c.severity.value))
    return out


AIR = {"domain": "air", "source": "air:station:FR04143"}


def hourly(
    metric: str, values: Sequence[float], start: datetime, **kw: Any
) -> list[tuple[float, datetime, dict[str, Any]]]:
    return [(v, start + timedelta(hours=i), {**AIR, "metric": metric, **kw}) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (hourly("pm10", [40] * 24 + [90] * 12, paris(1, 0)), [("air.pm10.daily", "fire", "warning")]),
        (
            hourly("pm10", [95] * 30, paris(1, 0)),
            [("air.pm10.daily", "fire", "critical")],
        ),
        (
            hourly("no2", [150, 250, 450, 450, 450, 150], paris(1, 6)),
            [
                ("air.no2.hourly", "fire", "warning"),
                ("air.no2.hourly", "update", "critical"),
                ("air.no2.alert-3h", "fire", "emergency"),
                ("air.no2.hourly", "resolve", "critical"),
                ("air.no2.alert-3h", "resolve", "emergency"),
            ],
        ),
        (
            hourly("o3", [170, 200, 250], paris(1, 13)),
            [("air.o3.hourly", "fire", "warning"), ("air.o3.hourly", "update", "critical")],
        ),
        (
            hourly("so2", [310, 290, 250], paris(1, 13)),
            [("air.so2.hourly", "fire", "warning"), ("air.so2.hourly", "resolve", "warning")],
        ),
        (
            hourly("atmoIndex", [3, 4, 5], paris(1, 8)),
            [("air.atmo-index", "fire", "warning"), ("air.atmo-index", "update", "critical")],
        ),
        (
            hourly("episodeLevel", [0, 1, 2, 0], paris(1, 8)),
            [
                ("air.episode", "fire", "warning"),
                ("air.episode", "update", "critical"),
                ("air.episode", "resolve", "critical"),
            ],
        ),
    ],
)
def test_air_rules(points: list[Any], expected: list[tuple[str, str, str]]) -> None:
    until = max(at for _, at, _ in points)
    assert feed(points, until) == expected


@pytest.mark.parametrize(
    ("points", "until", "expected"),
    [
        # pollen: numeric RNSA scale, FIWARE text scale, Atmo index
        (
            [(4, paris(1, 8), {"domain": "pollen", "metric": "allergenRisk"})],
            paris(1, 8),
            [("pollen.high", "fire", "warning")],
        ),
        (
            [("veryHigh", paris(1, 8), {"domain": "pollen", "metric": "allergenRisk"})],
            paris(1, 8),
            [("pollen.high", "fire", "warning")],
        ),
        ([("moderate", paris(1, 8), {"domain": "pollen", "metric": "allergenRisk"})], paris(1, 8), []),
        (
            [(5, paris(1, 8), {"domain": "pollen", "metric": "pollenIndex"})],
            paris(1, 8),
            [("pollen.high", "fire", "warning")],
        ),
        # helpline: waiting callers need 2 min; no agent only counts during opening hours
        (
            [(12, paris(1, 10), {"domain": "call_line", "metric": "callersWaiting"})],
            paris(1, 10, 3),
            [("call_line.waiting", "pend", "warning"), ("call_line.waiting", "fire", "warning")],
        ),
        (
            [(400, paris(1, 10), {"domain": "call_line", "metric": "longestHoldTime"})],
            paris(1, 10),
            [("call_line.hold-time", "fire", "warning")],
        ),
        (
            [(0.2, paris(1, 10), {"domain": "call_line", "metric": "abandonRate"})],
            paris(1, 10, 11),
            [("call_line.abandon-rate", "pend", "warning"), ("call_line.abandon-rate", "fire", "warning")],
        ),
        ([(0, paris(1, 21), {"domain": "call_line", "metric": "agentsLoggedIn"})], paris(1, 23), []),
        (
            [(0, paris(1, 10), {"domain": "call_line", "metric": "agentsLoggedIn"})],
            paris(1, 10, 6),
            [("call_line.no-agent", "pend", "critical"), ("call_line.no-agent", "fire", "critical")],
        ),
        # mask drive
        (
            [
                (2.5, paris(1, 10), {"domain": "mask_drive", "metric": "daysOfCover"}),
                (0.5, paris(1, 11), {"domain": "mask_drive", "metric": "daysOfCover"}),
            ],
            paris(1, 11),
            [("mask_drive.cover", "fire", "warning"), ("mask_drive.cover", "update", "critical")],
        ),
        # waste: container, queue only while open (Tuesday 1 Dec 10:00 open, 13:00 closed)
        (
            [
                (0.95, paris(1, 10), {"domain": "waste", "metric": "fillingLevel"}),
                (0.1, paris(2, 10), {"domain": "waste", "metric": "fillingLevel"}),
            ],
            paris(2, 10),
            [("waste.container-full", "fire", "warning"), ("waste.container-full", "resolve", "warning")],
        ),
        ([(20, paris(1, 13), {"domain": "waste", "metric": "queueLength"})], paris(1, 13, 30), []),
        (
            [(20, paris(1, 10), {"domain": "waste", "metric": "queueLength"})],
            paris(1, 10, 15),
            [("waste.centre-queue", "pend", "warning"), ("waste.centre-queue", "fire", "warning")],
        ),
        # lighting: off after sunset (≈16:55) for 20 min; on in daylight for 1 h; lamp failure
        (
            [("off", paris(1, 15), {"domain": "lighting", "metric": "powerState"})],
            paris(1, 17, 30),
            [("lighting.off-at-night", "pend", "critical"), ("lighting.off-at-night", "fire", "critical")],
        ),
        (
            [("on", paris(1, 9), {"domain": "lighting", "metric": "powerState"})],
            paris(1, 10, 30),
            [("lighting.on-in-daytime", "pend", "info"), ("lighting.on-in-daytime", "fire", "info")],
        ),
        ([("on", paris(1, 18), {"domain": "lighting", "metric": "powerState"})], paris(1, 23), []),
        (
            [(1, paris(1, 10), {"domain": "lighting", "metric": "lampFailure"})],
            paris(1, 10),
            [("lighting.lamp-failure", "fire", "info")],
        ),
        (
            [("defectiveLamp", paris(1, 10), {"domain": "lighting", "metric": "status"})],
            paris(1, 10),
            [("lighting.lamp-failure", "fire", "info")],
        ),
        # hospital
        (
            [
                (86, paris(1, 10), {"domain": "hospital", "metric": "bedOccupancy"}),
                (96, paris(1, 11), {"domain": "hospital", "metric": "bedOccupancy"}),
            ],
            paris(1, 11),
            [("hospital.occupancy", "fire", "warning"), ("hospital.occupancy", "update", "critical")],
        ),
    ],
)
def test_other_domains(points: list[Any], until: datetime, expected: list[tuple[str, str, str]]) -> None:
    assert feed(points, until) == expected


def test_every_domain_has_a_staleness_rule() -> None:
    stale = {r.select.domain for r in RULES.rules if r.id.startswith("stale.")}
    assert stale == set(Domain)


def test_staleness_fires_after_silence() -> None:
    changes = backtest(
        RULES,
        [reading(3, at=0, domain="call_line", metric="agentsLoggedIn", source="ami:pbx")],
        60,
        until=reading(0).observed_at + timedelta(minutes=16),
    )
    assert [(c.rule_id, c.event.value) for c in changes] == [("stale.call_line", "fire")]


def _leaves(cond: Any) -> list[Compare]:
    if isinstance(cond, Compare):
        return [cond]
    if isinstance(cond, AllOf | AnyOf):
        return [leaf for c in (cond.all if isinstance(cond, AllOf) else cond.any) for leaf in _leaves(c)]
    if isinstance(cond, Not):
        return _leaves(cond.not_)
    return []


# Metric names the adapters emit (adapters/*.py); the rules must not invent others.
ADAPTER_METRICS = {
    "pm10", "no2", "o3", "so2", "atmoIndex", "episodeLevel", "allergenRisk", "pollenIndex",
    "callersWaiting", "longestHoldTime", "abandonRate", "agentsLoggedIn", "daysOfCover",
    "fillingLevel", "queueLength", "powerState", "lampFailure", "status", "actualLightState",
    "bedOccupancy", "icuOccupancy",
}  # fmt: skip


def test_metric_names_are_the_adapters() -> None:
    used = set()
    for rule in RULES.rules:
        for cond in [rule.when, rule.clear, *(lvl.when for lvl in rule.levels)]:
            for leaf in _leaves(cond):
                metric = leaf.metric or rule.select.metric
                if metric:
                    used.add(metric)
    assert used <= ADAPTER_METRICS, used - ADAPTER_METRICS


def test_public_rules_carry_cap_on_fire() -> None:
    engine = Engine(RULES)
    now = paris(1, 9)
    episode = reading(2, domain="air", metric="episodeLevel").model_copy(update={"observed_at": now})
    [change] = engine.on_reading(episode, now)
    assert change.public
    kinds = [a.kind for a in change.actions]
    assert kinds == ["task", "cap"]
    cap = change.actions[1]
    assert cap.msg_type == "Alert" and cap.severity == "Severe"  # type: ignore[union-attr]
    assert cap.fr.description == "Procédure préfectorale déclenchée (niveau 2)."  # type: ignore[union-attr]
    assert change.severity == Severity.CRITICAL
