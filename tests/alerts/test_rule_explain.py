"""Why an alert fired, in words: every condition kind has a plain-text form for backtest output."""

from __future__ import annotations

import pytest

from alerts.backtest import backtest, change_to_dict, format_change
from alerts.explain import describe_rule
from alerts.loader import DEFAULT_RULES, load_rules, load_rules_text
from tests.alerts.rulekit import reading


def rule_text(when: str, extra: str = "") -> str:
    return f"rules:\n  - id: r\n    title: t\n    select: {{metric: no2}}\n    when: {when}\n{extra}"


@pytest.mark.parametrize(
    ("when", "extra", "expected"),
    [
        ('{op: ">", value: 200}', "", "no2 > 200"),
        ('{op: ">=", value: 200.5}', "", "no2 >= 200.5"),
        ("{op: in, value: [high, 4]}", "", "no2 in [high, 4]"),
        ('{agg: mean, over: 24h, op: ">", value: 50}', "", "mean(no2, 24h) > 50"),
        ('{agg: rate, over: 90m, op: ">", value: 5}', "", "rate(no2, 1h30m) > 5"),
        ('{op: ">", value: 1, consecutive: 3}', "", "no2 > 1 (3 in a row)"),
        ("{absent_for: 2h}", "", "no reading for 2h"),
        ("{absent_for: 4d}", "", "no reading for 4d"),
        ("{schedule: {sun: night, weekdays: [sa, su]}}", "", "night and on sa su"),
        ("{schedule: {hours: '22:00-06:00'}}", "", "hours 22:00-06:00"),
        (
            "{all: [{op: '>', value: 1},"
            " {any: [{metric: pm10, op: '>', value: 2}, {not: {absent_for: 1h}}]}]}",
            "",
            "no2 > 1 and (pm10 > 2 or not no reading for 1h)",
        ),
        (
            '{op: ">", value: 200}',
            "    for: 5m\n    keep_firing_for: 10m\n",
            "no2 > 200 for 5m; keeps firing 10m after it stops holding",
        ),
        (
            '{op: ">", value: 200}',
            "    clear: {op: '<', value: 150}\n    keep_firing_for: 1h\n",
            "no2 > 200; clears when no2 < 150 for 1h",
        ),
    ],
)
def test_describe(when: str, extra: str, expected: str) -> None:
    rules = load_rules_text(rule_text(when, extra), name="x")
    assert describe_rule(rules.rules[0]) == expected


def test_every_shipped_rule_has_a_description() -> None:
    for rule in load_rules([DEFAULT_RULES]).rules:
        assert describe_rule(rule)


def test_backtest_output_says_why() -> None:
    rules = load_rules_text(rule_text('{op: ">", value: 200}'), name="x")
    [fire] = backtest(rules, [reading(250)], 60)
    assert format_change(fire, rules).endswith("  <- no2 > 200")
    assert change_to_dict(fire, rules)["because"] == "no2 > 200"
    assert change_to_dict(fire)["because"] is None
