"""The rules loader under hypothesis: only RulesError escapes, and what it accepts the engine runs.

Two kinds of input: any text (YAML syntax errors, wrong shapes), and valid rules with one field
replaced by an arbitrary YAML value (the mistakes people make). A rule set the loader accepts must
never make the engine raise on a reading or a tick: the worker would dead-letter healthy readings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.engine import Engine
from alerts.loader import RulesError, load_rules_text
from hypervision.domain import Reading

BASE: dict[str, Any] = {
    "id": "air.no2",
    "title": "NO2 {value} at {source}",
    "description": "since {since}",
    "select": {"domain": "air", "metric": "no2"},
    "when": {"op": ">", "value": 200},
    "severity": "warning",
}
OPTIONAL: dict[str, Any] = {
    "for": "5m",
    "clear": {"op": "<", "value": 150},
    "levels": [{"severity": "critical", "when": {"op": ">", "value": 400}}],
    "labels": {"team": "air"},
    "group_by": ["zone"],
}
FIELDS = sorted({*BASE, *OPTIONAL, "when.op", "when.value", "when.agg", "when.over", "select.metric"})

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _accepts_only_rules_error(text: str) -> Engine | None:
    try:
        rules = load_rules_text(text, name="fuzz.yaml")
    except RulesError as err:
        assert str(err), "a RulesError must say what is wrong"
        return None
    return Engine(rules)


def _exercise(engine: Engine) -> None:
    t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    for i, value in enumerate([12.0, 250.0, 450.0, 90.0, "off"]):
        reading = Reading(source="air:station:F1", domain="air", metric="no2", value=value,
                          observed_at=t0 + timedelta(minutes=i), zone="z1")  # fmt: skip
        engine.on_reading(reading, reading.observed_at)
        engine.on_tick(reading.observed_at + timedelta(seconds=30))
    engine.take_dirty_state()


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text_loads_or_raises_rules_error(text: str) -> None:
    engine = _accepts_only_rules_error(text)
    if engine is not None:
        _exercise(engine)


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(FIELDS),
    yaml_values,
    st.lists(st.sampled_from(sorted(OPTIONAL)), unique=True, max_size=3),
)
def test_a_rule_with_one_wrong_field_is_refused_clearly_or_runs(
    field: str, value: Any, extra: list[str]
) -> None:
    rule = {**BASE, **{k: OPTIONAL[k] for k in extra}}
    rule["when"] = dict(rule["when"])
    rule["select"] = dict(rule["select"])
    if "." in field:
        outer, inner = field.split(".")
        rule[outer][inner] = value
    else:
        rule[field] = value
    engine = _accepts_only_rules_error(yaml.safe_dump({"rules": [rule]}, allow_unicode=True))
    if engine is not None:
        _exercise(engine)
