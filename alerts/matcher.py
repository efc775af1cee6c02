"""Label matchers shared by silences and inhibition: `label = glob` or `label != glob`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase

from alerts.schema import Matcher


def matches(matcher: Matcher, labels: Mapping[str, str]) -> bool:
    # A missing label is the empty string, as in Alertmanager: `zone != x` holds when zone is absent.
    hit = fnmatchcase(labels.get(matcher.label, ""), matcher.value)
    return hit if matcher.op == "=" else not hit


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(matches(m, labels) for m in matchers)
