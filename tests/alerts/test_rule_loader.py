"""Loading rule files: valid files load, every error names file, line, rule id and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.loader import DEFAULT_RULES, RulesError, load_rules, load_rules_text

GOOD = """
rules:
  - id: air.no2
    title: "NO2 {value}"
    select: {domain: air, metric: no2}
    when: {op: ">", value: 200}
"""


def _problem(text: str) -> tuple[str, int | None, str | None, str | None, str]:
    with pytest.raises(RulesError) as info:
        load_rules_text(text, name="bad.yaml")
    assert len(info.value.problems) >= 1
    return info.value.problems[0]


def test_good_file_loads() -> None:
    rules = load_rules_text(GOOD, name="good.yaml")
    assert [r.id for r in rules.rules] == ["air.no2"]
    assert rules.by_id["air.no2"].when.op == ">"  # type: ignore[union-attr]
    assert rules.names == ("good.yaml",)
    assert len(rules.digest) == 64


@pytest.mark.parametrize(
    ("text", "line", "rule_id", "field", "message"),
    [
        (GOOD.replace('op: ">"', 'op: "=>"'), 6, "air.no2", "when.op", "Input should be"),
        (GOOD.replace("value: 200", "value: high"), 6, "air.no2", "when", "needs a number"),
        (GOOD.replace('title: "NO2 {value}"', 'title: "NO2 {valeur}"'), 4, "air.no2", "title", "{valeur}"),
        (GOOD.replace("    select", "    colour: red\n    select"), 5, "air.no2", "colour", "Extra inputs"),
        (
            GOOD.replace("when: {op", "when: {absent: 1h, op").replace("}\n", "}\n", 1),
            6,
            "air.no2",
            "when.absent",
            "Extra inputs",
        ),
        (
            GOOD.replace('when: {op: ">", value: 200}', "when: {foo: 1}"),
            6,
            "air.no2",
            "when",
            "a condition has",
        ),
        (GOOD.replace("id: air.no2", "id: Air NO2"), 3, "Air NO2", "id", "rule id"),
        (GOOD + "    for: soon\n", 7, "air.no2", "for", "not a duration"),
        (GOOD + "    public: true\n", 3, "air.no2", None, "needs `cap`"),
        (GOOD + "    severity: loud\n", 7, "air.no2", "severity", "Input should be"),
    ],
)
def test_errors_name_file_line_rule_and_field(
    text: str, line: int, rule_id: str, field: str | None, message: str
) -> None:
    name, got_line, got_id, got_field, msg = _problem(text)
    assert name == "bad.yaml"
    assert got_line == line
    assert got_id == rule_id
    assert got_field == field
    assert message in msg


def test_nested_condition_error_points_at_the_leaf() -> None:
    text = """rules:
  - id: combo
    title: t
    group_by: [zone]
    when:
      all:
        - {domain: pollen, metric: allergenRisk, op: ">=", value: 4}
        - domain: call_line
          metric: callersWaiting
          op: ">"
          value: many
"""
    name, line, rule_id, field, msg = _problem(text)
    assert (line, rule_id, field) == (8, "combo", "when.all")
    assert "needs a number" in msg
    assert str(RulesError([(name, line, rule_id, field, msg)])).startswith("bad.yaml:8: rule 'combo'")


def test_yaml_syntax_error_has_line() -> None:
    _name, line, rule_id, _field, msg = _problem("rules:\n  - id: a\n    title: [unclosed\n")
    assert line == 4 and rule_id is None and "not valid YAML" in msg


def test_on_off_stay_text() -> None:
    rules = load_rules_text(GOOD.replace('op: ">", value: 200', 'op: "==", value: off'), name="x")
    assert rules.rules[0].when.value == "off"  # type: ignore[union-attr]


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(GOOD)
    b.write_text(GOOD)
    with pytest.raises(RulesError, match=r"b.yaml: rule 'air.no2': field 'id': duplicate rule id"):
        load_rules([a, b])


def test_missing_file_is_a_rules_error(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules([tmp_path / "nope.yaml"])


def test_every_problem_of_every_file_is_reported(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(GOOD.replace("value: 200", "value: x"))
    b.write_text(GOOD.replace("id: air.no2", "id: B"))
    with pytest.raises(RulesError) as info:
        load_rules([a, b])
    assert [p[0] for p in info.value.problems] == [str(a), str(b)]


def test_shipped_rules_load() -> None:
    rules = load_rules([DEFAULT_RULES])
    assert len(rules.rules) >= 1


def test_json_schema_accepts_the_shipped_rules_and_rejects_a_typo() -> None:
    import yaml

    from alerts.schema import json_schema

    jsonschema_rs = pytest.importorskip("jsonschema_rs")  # comes with schemathesis (test extra)
    validator = jsonschema_rs.validator_for(json_schema())
    data = yaml.safe_load(DEFAULT_RULES.read_text())
    assert validator.is_valid(data), list(validator.iter_errors(data))[:3]
    data["rules"][0]["whne"] = data["rules"][0].pop("when")
    assert not validator.is_valid(data)


def test_alias_bomb_is_refused() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 10)}]")
    lines.append("rules: []")
    _name, line, _rule, _field, msg = _problem("\n".join(lines) + "\n")
    assert "expands to more than" in msg and line is not None


def test_deep_nesting_is_refused() -> None:
    _name, _line, _rule, _field, msg = _problem("rules: " + "[" * 60 + "]" * 60 + "\n")
    assert "levels" in msg
