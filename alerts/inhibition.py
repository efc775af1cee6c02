"""Inhibition: an open alert (e.g. zone-wide) mutes the notifications of related alerts (its sensors)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from alerts.matcher import matches_all
from alerts.schema import InhibitRule


def inhibited_by(
    labels: Mapping[str, str],
    open_alerts: Iterable[Mapping[str, str]],
    rules: Sequence[InhibitRule],
) -> Mapping[str, str] | None:
    """The labels of the first open alert that inhibits an alert with `labels`, or None.

    An alert never inhibits itself, and the `equal` labels must be present and equal on both
    (a missing zone does not tie a sensor to a zone-wide alert).
    """
    targeted = [r for r in rules if matches_all(r.target, labels)]
    if not targeted:
        return None
    for other in open_alerts:
        if other == labels:
            continue
        for rule in targeted:
            if not matches_all(rule.source, other):
                continue
            if all(name in labels and labels[name] == other.get(name) for name in rule.equal):
                return other
    return None


def is_inhibited(
    labels: Mapping[str, str], open_alerts: Iterable[Mapping[str, str]], rules: Sequence[InhibitRule]
) -> bool:
    return inhibited_by(labels, open_alerts, rules) is not None
