"""Backtest: the clock comes from the readings, ticks fill the gaps, input errors name the line."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts.backtest import BacktestInputError, Summary, backtest, format_change, parse_jsonl
from alerts.loader import load_rules_text
from tests.alerts.rulekit import T0, reading

RULES = load_rules_text(
    """
rules:
  - id: no2
    title: "NO2 {value}"
    select: {metric: no2}
    when: {op: ">", value: 200}
    for: 10m
  - id: silent
    title: "muette {source}"
    group_by: [source]
    when: {absent_for: 1h}
""",
    name="bt.yaml",
)


def test_ticks_between_readings_complete_for_timers_at_the_right_time() -> None:
    readings = [reading(250, at=0), reading(250, at=1800)]
    changes = backtest(RULES, readings, timedelta(minutes=1))
    assert [(c.rule_id, c.event.value, (c.at - T0).total_seconds()) for c in changes] == [
        ("no2", "pend", 0.0),
        ("no2", "fire", 600.0),  # fired by the tick at +10 min, not by the next reading
    ]


def test_until_lets_absence_fire_after_the_last_reading() -> None:
    changes = backtest(RULES, [reading(10, at=0)], 300, until=T0 + timedelta(hours=2))
    assert [(c.rule_id, c.event.value, (c.at - T0).total_seconds()) for c in changes] == [
        ("silent", "fire", 3600.0)
    ]


def test_clock_never_goes_back_for_late_readings() -> None:
    readings = [reading(250, at=600), reading(100, at=0, source="other")]
    changes = backtest(RULES, readings, 60)
    assert [c.at for c in changes] == [T0 + timedelta(seconds=600)]


def test_tick_every_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        backtest(RULES, [], 0)


def test_parse_jsonl_and_format() -> None:
    lines = [
        "# recorded 30 Nov",
        "",
        reading(250, at=0).model_dump_json(),
        reading(260, at=700).model_dump_json(),
    ]
    readings = list(parse_jsonl(lines))
    changes = backtest(RULES, readings, 60)
    assert [format_change(c) for c in changes] == [
        "2026-11-30 10:00:00  pend     warning   no2 [domain=air,metric=no2,source=air:station:FR04143,"
        "zone=dijon-centre] value=250.0  NO2 250",
        "2026-11-30 10:10:00  fire     warning   no2 [domain=air,metric=no2,source=air:station:FR04143,"
        "zone=dijon-centre] value=250.0  NO2 250",
    ]
    summary = Summary.of(changes)
    assert (summary.changes, summary.fired, summary.resolved) == (2, {"no2": 1}, {})


def test_parse_jsonl_names_the_bad_line() -> None:
    lines = [reading(1).model_dump_json(), '{"source": "x", "domain": "space"}']
    with pytest.raises(BacktestInputError, match=r"^line 2: ") as info:
        list(parse_jsonl(lines))
    assert info.value.line == 2
    with pytest.raises(BacktestInputError, match="line 1"):
        list(parse_jsonl(["not json"]))
