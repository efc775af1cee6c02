"""Escalation and re-notification of stored alerts: pure, driven by the worker's clock ticks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from alerts.action import Action, NotifyAction, WebhookAction
from alerts.duration import format_duration
from alerts.engine import AlertChange
from alerts.lifecycle import AlertEvent
from alerts.loader import RuleSet
from alerts.schema import Rule
from hypervision.domain import SEVERITY_ORDER, AlertState, Severity


class OpenAlert(Protocol):
    """What escalation needs from a stored alert (the attributes of hypervision.models.alert.Alert)."""

    @property
    def fingerprint(self) -> str: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def state(self) -> AlertState: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def labels(self) -> Mapping[str, Any]: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def value(self) -> float | str | None: ...
    @property
    def firing_at(self) -> datetime | None: ...
    @property
    def acknowledged_at(self) -> datetime | None: ...
    @property
    def escalation_level(self) -> int: ...  # ESCALATE changes applied so far
    @property
    def last_notified_at(self) -> datetime | None: ...  # set by FIRE, ESCALATE and RENOTIFY


def due_escalations(open_alerts: Iterable[OpenAlert], rules: RuleSet, now: datetime) -> list[AlertChange]:
    """ESCALATE for firing alerts not acknowledged in time, RENOTIFY for acknowledged ones still open.

    At most one change per alert per call: the worker applies it (ESCALATE increments
    `escalation_level`, both set `last_notified_at` to the change's time) and the next tick emits
    the next step if it is already due.
    """
    out: list[AlertChange] = []
    for alert in open_alerts:
        rule = rules.by_id.get(alert.rule_id)
        if rule is None:
            continue
        change = _escalation(alert, rule, now) or _renotification(alert, rule, now)
        if change is not None:
            out.append(change)
    return out


def _steps(since: datetime, until: datetime, after: float) -> int:
    return int((until - since).total_seconds() // after)


def _escalation(alert: OpenAlert, rule: Rule, now: datetime) -> AlertChange | None:
    spec = rule.actions.escalate
    if spec is None or alert.state != AlertState.FIRING or alert.firing_at is None:
        return None
    if min(_steps(alert.firing_at, now, spec.after), spec.repeat) <= alert.escalation_level:
        return None
    ceiling = (spec.to or Severity.EMERGENCY).rank
    rank = alert.severity.rank
    severity = SEVERITY_ORDER[max(rank, min(rank + 1, ceiling))]
    waited = format_duration((now - alert.firing_at).total_seconds())
    reason = f"non acquittée depuis {waited} (escalade {alert.escalation_level + 1}/{spec.repeat})"
    actions = _notify(rule, spec.notify, reason, AlertEvent.ESCALATE)
    return _change(alert, rule, AlertEvent.ESCALATE, severity, actions, now)


def _renotification(alert: OpenAlert, rule: Rule, now: datetime) -> AlertChange | None:
    spec = rule.actions.renotify
    acked = alert.acknowledged_at
    if spec is None or alert.state != AlertState.ACKNOWLEDGED or acked is None:
        return None
    # Re-notifications happen at ack + k*after; how many were sent follows from the last one's
    # time, so the stored alert needs no counter of its own.
    last = alert.last_notified_at
    done = _steps(acked, last, spec.after) if last is not None and last > acked else 0
    if min(_steps(acked, now, spec.after), spec.repeat) <= done:
        return None
    waited = format_duration((now - acked).total_seconds())
    reason = f"acquittée il y a {waited} et toujours active (rappel {done + 1}/{spec.repeat})"
    actions = _notify(rule, spec.notify, reason, AlertEvent.RENOTIFY)
    return _change(alert, rule, AlertEvent.RENOTIFY, alert.severity, actions, now)


def _notify(rule: Rule, teams: list[str], reason: str, event: AlertEvent) -> tuple[Action, ...]:
    hooks = [WebhookAction(url=w.url) for w in rule.actions.webhooks if event.value in w.on]
    return (NotifyAction(teams=tuple(teams), reason=reason), *hooks)


def _change(
    alert: OpenAlert,
    rule: Rule,
    event: AlertEvent,
    severity: Severity,
    actions: tuple[Action, ...],
    now: datetime,
) -> AlertChange:
    return AlertChange(
        fingerprint=alert.fingerprint,
        rule_id=alert.rule_id,
        event=event,
        severity=severity,
        labels={str(k): str(v) for k, v in alert.labels.items()},
        title=alert.title,
        description=alert.description,
        value=alert.value,
        at=now,
        actions=actions,
        public=rule.public,
        from_state=alert.state.value,
    )
