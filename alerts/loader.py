"""Load rule files: YAML with line numbers, schema validation, errors naming file, line, rule id and field."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from alerts.schema import InhibitRule, Location, Rule, RuleFile

DEFAULT_RULES: Path = Path(__file__).parent / "rules" / "default.yaml"

Loc = tuple[str | int, ...]
_BOOL = "tag:yaml.org,2002:bool"
MAX_NODES = 200_000
MAX_DEPTH = 40
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


class RulesError(Exception):
    """A rule file is invalid; `problems` lists each one as (file, line, rule id, field, message)."""

    def __init__(self, problems: list[tuple[str, int | None, str | None, str | None, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(_format(*p) for p in problems))


def _format(name: str, line: int | None, rule_id: str | None, fld: str | None, msg: str) -> str:
    where = f"{name}:{line}" if line is not None else name
    parts = [where]
    if rule_id:
        parts.append(f"rule {rule_id!r}")
    if fld:
        parts.append(f"field {fld!r}")
    return f"{': '.join(parts)}: {msg}"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A validated, immutable set of rules from one or more files; swapped whole on reload."""

    rules: tuple[Rule, ...] = ()
    inhibit: tuple[InhibitRule, ...] = ()
    location: Location | None = None
    digest: str = ""
    names: tuple[str, ...] = ()
    by_id: dict[str, Rule] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, files: Sequence[tuple[str, str, RuleFile]]) -> RuleSet:
        """Merge parsed files; duplicate rule ids across files are an error."""
        problems: list[tuple[str, int | None, str | None, str | None, str]] = []
        by_id: dict[str, Rule] = {}
        origin: dict[str, str] = {}
        location: Location | None = None
        inhibit: list[InhibitRule] = []
        for name, _text, parsed in files:
            for rule in parsed.rules:
                if rule.id in by_id:
                    msg = f"duplicate rule id (already defined in {origin[rule.id]})"
                    problems.append((name, None, rule.id, "id", msg))
                by_id[rule.id] = rule
                origin[rule.id] = name
            inhibit.extend(parsed.inhibit)
            location = parsed.location or location
        if problems:
            raise RulesError(problems)
        digest = hashlib.sha256("\x00".join(text for _, text, _ in files).encode()).hexdigest()
        return cls(
            rules=tuple(by_id.values()),
            inhibit=tuple(inhibit),
            location=location,
            digest=digest,
            names=tuple(name for name, _, _ in files),
            by_id=by_id,
        )


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """Load and merge rule files; raise RulesError with every problem found."""
    parsed: list[tuple[str, str, RuleFile]] = []
    problems: list[tuple[str, int | None, str | None, str | None, str]] = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            problems.append((str(path), None, None, None, f"cannot read: {err.strerror or err}"))
            continue
        try:
            parsed.append((str(path), text, parse_rule_file(text, name=str(path))))
        except RulesError as err:
            problems.extend(err.problems)
    if problems:
        raise RulesError(problems)
    return RuleSet.of(parsed)


def load_rules_text(text: str, *, name: str) -> RuleSet:
    return RuleSet.of([(name, text, parse_rule_file(text, name=name))])


def parse_rule_file(text: str, *, name: str) -> RuleFile:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(err, "problem", None) or str(err)
        raise RulesError([(name, line, None, None, f"not valid YAML: {problem}")]) from err
    if node is None:
        return RuleFile()
    lines: dict[Loc, int] = {}
    try:
        data = _build(node, (), lines)
    except _TooLarge as err:
        raise RulesError([(name, err.line, None, None, str(err))]) from err
    if not isinstance(data, dict):
        raise RulesError([(name, 1, None, None, "a rule file is a mapping with a `rules:` list")])
    try:
        return RuleFile.model_validate(data)
    except ValidationError as err:
        raise RulesError([_locate(name, data, lines, e) for e in err.errors()]) from err


class _TooLarge(Exception):
    def __init__(self, line: int) -> None:
        self.line = line
        super().__init__(
            f"the file expands to more than {MAX_NODES} values or {MAX_DEPTH} levels "
            "(YAML aliases are expanded: a rule file needs neither)"
        )


def _build(node: yaml.Node, path: Loc, lines: dict[Loc, int]) -> Any:
    """Plain data from a composed YAML node, recording the line of every key and item."""
    # Aliases share nodes, so a small file can expand enormously ("billion laughs"): bound it.
    if len(lines) >= MAX_NODES or len(path) > MAX_DEPTH:
        raise _TooLarge(node.start_mark.line + 1)
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Keys stay text: YAML 1.1 would turn a key `on:` into True.
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            out[key] = _build(value_node, (*path, key), lines)
            # The key's own line is where an error about this field should point.
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, (*path, i), lines) for i, item in enumerate(node.value)]
    if node.tag == _BOOL and node.value.lower() not in ("true", "false"):
        # YAML 1.1 reads on/off/yes/no as booleans; here they are states such as powerState "on".
        return node.value
    return _CONSTRUCTOR.construct_object(node, deep=True)


def _locate(
    name: str, data: Any, lines: dict[Loc, int], error: Any
) -> tuple[str, int | None, str | None, str | None, str]:
    # pydantic's loc mixes data keys with union tags ('compare', 'all'...): follow only the steps
    # that exist in the data, so the path is the one a person sees in the file.
    path: list[str | int] = []
    current = data
    for step in error["loc"]:
        in_dict = isinstance(current, dict) and step in current
        in_list = isinstance(current, list) and isinstance(step, int) and 0 <= step < len(current)
        if not (in_dict or in_list):
            continue
        current = current[step]
        path.append(step)
    line = None
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            break
    rule_id = None
    if len(path) >= 2 and path[0] == "rules" and isinstance(path[1], int):
        rule = data["rules"][path[1]]
        rule_id = str(rule.get("id")) if isinstance(rule, dict) and rule.get("id") is not None else None
    fld = ".".join(str(p) for p in path[2:] if not isinstance(p, int)) if rule_id or len(path) > 2 else None
    if path and path[0] != "rules":
        fld = ".".join(str(p) for p in path)
    msg = error["msg"].removeprefix("Value error, ")
    return name, line, rule_id, fld or None, msg
