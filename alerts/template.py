"""Title/description templates: `{name}` or `{name:.1f}` placeholders over a flat context, nothing else."""

from __future__ import annotations

import re
from collections.abc import Mapping

# A deliberately tiny language: no attribute access or indexing (str.format would allow
# `{value.__class__}`), only names from the context, dotted for labels.* and values.*.
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_.\-]+)?)(?::([^{}]*))?\}")

NAMES = frozenset(
    {"value", "unit", "severity", "rule", "source", "metric", "zone", "domain", "observed_at", "since"}
)
PREFIXES = ("labels.", "values.")


def check_template(text: str) -> None:
    """Raise ValueError naming the first unknown placeholder or bad format spec."""
    for match in _PLACEHOLDER.finditer(text):
        name, spec = match.group(1), match.group(2)
        if name not in NAMES and not name.startswith(PREFIXES):
            known = ", ".join(sorted(NAMES))
            raise ValueError(f"unknown placeholder {{{name}}} (known: {known}, labels.X, values.METRIC)")
        if spec:
            try:
                format(1.5, spec)
            except ValueError as err:
                raise ValueError(f"bad format {spec!r} in {{{name}}}: {err}") from err
    stripped = _PLACEHOLDER.sub("", text)
    if "{" in stripped or "}" in stripped:
        raise ValueError("unbalanced or malformed braces (write a placeholder as {name} or {name:.1f})")


def render(text: str, context: Mapping[str, object]) -> str:
    """Fill placeholders; a missing name renders as `?`, a spec that does not fit the value is ignored."""
    if "{" not in text:
        return text

    def fill(match: re.Match[str]) -> str:
        value = context.get(match.group(1))
        if value is None:
            return "?"
        spec = match.group(2)
        if spec:
            try:
                return format(value, spec)
            except (ValueError, TypeError):
                return str(value)
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return _PLACEHOLDER.sub(fill, text)


def names_in(*texts: str) -> frozenset[str]:
    """Placeholder names used by these templates (so a change computes only what is shown)."""
    return frozenset(m.group(1) for text in texts for m in _PLACEHOLDER.finditer(text))
