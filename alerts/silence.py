"""Silences: time-bounded label matchers set by a manager; they mute notifications, never the picture."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from alerts.matcher import matches_all
from alerts.schema import Matcher


@dataclass(frozen=True, slots=True)
class Silence:
    """Mute notifications and tasks of alerts whose labels match every matcher, from start to end."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str

    def __post_init__(self) -> None:
        if not self.matchers:
            raise ValueError("a silence needs at least one matcher (it would mute everything)")
        if self.ends_at <= self.starts_at:
            raise ValueError("a silence must end after it starts")
        if not self.reason.strip():
            raise ValueError("a silence needs a reason")

    def active(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


def silencing(labels: Mapping[str, str], silences: Iterable[Silence], now: datetime) -> list[Silence]:
    """The active silences that match these labels (the alert's labels plus `rule`)."""
    return [s for s in silences if s.active(now) and matches_all(s.matchers, labels)]


def is_silenced(labels: Mapping[str, str], silences: Iterable[Silence], now: datetime) -> bool:
    return bool(silencing(labels, silences, now))
