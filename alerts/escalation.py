"""Escalation and re-notification of stored alerts: pure, driven by the worker's clock ticks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from alerts.action import Action, NotifyAction, WebhookAction
from alerts.duration import format_duration
from alerts.engine import AlertChange
from alerts.lifecycle import AlertEvent
from alerts.loader import RuleSet
from alerts.schema import Rule
from hypervision.domain import SEVERITY_ORDER, AlertState, Severity


class OpenAlert(Protocol):
    """What escalation needs from a stored alert (the worker's SQL model has these attributes)."""

    @property
    def fingerprint(self) -> str: ...
    @property
    def rule_id(self) -> str: ...
    @property
    def state(self) -> AlertState: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def labels(self) -> Mapping[str, str]: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def value(self) -> float | str | None: ...
    @property
    def fired_at(self) -> datetime | None: ...
    @property
    def acked_at(self) -> datetime | None: ...
    @property
    def escalations(self) -> int: ...
    @property
    def renotifications(self) -> int: ...


def due_escalations(open_alerts: Iterable[OpenAlert], rules: RuleSet, now: datetime) -> list[AlertChange]:
    """ESCALATE for firing alerts not acknowledged in time, RENOTIFY for acknowledged ones still open.

    At most one change per alert per call: the worker applies it (incrementing `escalations` or
    `renotifications`) and the next tick emits the next step if it is already due.
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


def _steps_due(since: datetime | None, after: float, repeat: int, now: datetime) -> int:
    if since is None:
        return 0
    return min(int((now - since).total_seconds() // after), repeat)


def _escalation(alert: OpenAlert, rule: Rule, now: datetime) -> AlertChange | None:
    spec = rule.actions.escalate
    if spec is None or alert.state != AlertState.FIRING:
        return None
    if _steps_due(alert.fired_at, spec.after, spec.repeat, now) <= alert.escalations:
        return None
    ceiling = (spec.to or Severity.EMERGENCY).rank
    rank = alert.severity.rank
    severity = SEVERITY_ORDER[max(rank, min(rank + 1, ceiling))]
    waited = format_duration((now - alert.fired_at).total_seconds()) if alert.fired_at else "?"
    reason = f"non acquittée depuis {waited} (escalade {alert.escalations + 1}/{spec.repeat})"
    actions = _notify(rule, spec.notify, reason, AlertEvent.ESCALATE)
    return _change(alert, rule, AlertEvent.ESCALATE, severity, actions, now)


def _renotification(alert: OpenAlert, rule: Rule, now: datetime) -> AlertChange | None:
    spec = rule.actions.renotify
    if spec is None or alert.state != AlertState.ACKNOWLEDGED:
        return None
    if _steps_due(alert.acked_at, spec.after, spec.repeat, now) <= alert.renotifications:
        return None
    waited = format_duration((now - alert.acked_at).total_seconds()) if alert.acked_at else "?"
    reason = (
        f"acquittée il y a {waited} et toujours active (rappel {alert.renotifications + 1}/{spec.repeat})"
    )
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
        labels=dict(alert.labels),
        title=alert.title,
        description=alert.description,
        value=alert.value,
        at=now,
        actions=actions,
        public=rule.public,
        from_state=alert.state.value,
    )
