"""Escalation, re-notification, silences and inhibition: pure helpers over stored alerts."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import pytest

from alerts.action import NotifyAction, WebhookAction
from alerts.escalation import due_escalations
from alerts.inhibition import inhibited_by, is_inhibited
from alerts.lifecycle import AlertEvent, transition
from alerts.loader import load_rules_text
from alerts.schema import InhibitRule, Matcher
from alerts.silence import Silence, is_silenced, silencing
from hypervision.domain import AlertState, Severity
from tests.alerts.rulekit import T0

RULES = load_rules_text(
    """
rules:
  - id: hospital.occupancy
    title: "Occupation {value}"
    when: {op: ">", value: 0.85}
    severity: warning
    actions:
      escalate: {after: 15m, repeat: 3, notify: [astreinte], to: critical}
      renotify: {after: 1h, repeat: 2, notify: [direction]}
      webhooks: [{url: "https://hooks.example/alert", on: [escalate]}]
  - id: quiet
    title: q
    when: {op: ">", value: 1}
""",
    name="t.yaml",
)


@dataclass
class StoredAlert:
    """Stands for the worker's stored alert (same attribute names as hypervision.models.alert.Alert);
    applies changes through the real transition function, as the alert store does."""

    fingerprint: str = "fp1"
    rule_id: str = "hospital.occupancy"
    state: AlertState = AlertState.FIRING
    severity: Severity = Severity.WARNING
    labels: dict[str, str] = field(default_factory=lambda: {"zone": "chu"})
    title: str = "Occupation 0.9"
    description: str = ""
    value: float | str | None = 0.9
    firing_at: datetime | None = T0
    acknowledged_at: datetime | None = None
    escalation_level: int = 0
    last_notified_at: datetime | None = T0

    def apply(self, event: AlertEvent, severity: Severity, now: datetime) -> None:
        self.state = transition(self.state, event)
        self.severity = severity
        if event == AlertEvent.ESCALATE:
            self.escalation_level += 1
        if event in (AlertEvent.ESCALATE, AlertEvent.RENOTIFY):
            self.last_notified_at = now
        elif event == AlertEvent.ACK:
            self.acknowledged_at = now


def run(alert: StoredAlert, minutes: range) -> list[tuple[int, str, str]]:
    out = []
    for minute in minutes:
        now = T0 + timedelta(minutes=minute)
        for change in due_escalations([alert], RULES, now):
            alert.apply(change.event, change.severity, now)
            out.append((minute, change.event.value, change.severity.value))
    return out


def test_escalates_every_delay_raising_severity_up_to_the_cap_and_repeat() -> None:
    alert = StoredAlert()
    assert run(alert, range(0, 120)) == [
        (15, "escalate", "critical"),
        (30, "escalate", "critical"),  # capped at `to: critical`
        (45, "escalate", "critical"),
    ]  # and no more than `repeat: 3`


def test_escalation_carries_notify_and_webhook_actions() -> None:
    [change] = due_escalations([StoredAlert()], RULES, T0 + timedelta(minutes=16))
    notify, hook = change.actions
    assert isinstance(notify, NotifyAction) and notify.teams == ("astreinte",)
    assert "non acquittée depuis 16m" in notify.reason
    assert hook == WebhookAction(url="https://hooks.example/alert")
    assert change.fingerprint == "fp1" and change.at == T0 + timedelta(minutes=16)


def test_ack_stops_escalation_and_renotifies_while_still_open() -> None:
    alert = StoredAlert()
    run(alert, range(0, 20))
    alert.apply(AlertEvent.ACK, alert.severity, T0 + timedelta(minutes=20))
    assert run(alert, range(20, 300)) == [(80, "renotify", "critical"), (140, "renotify", "critical")]


def test_nothing_for_pending_resolved_unknown_or_plain_rules() -> None:
    now = T0 + timedelta(hours=5)
    alerts = [
        StoredAlert(state=AlertState.PENDING),
        StoredAlert(state=AlertState.RESOLVED),
        StoredAlert(rule_id="gone"),
        StoredAlert(rule_id="quiet"),
    ]
    assert due_escalations(alerts, RULES, now) == []


def test_emergency_is_not_raised_further() -> None:
    rules = load_rules_text(
        "rules:\n  - {id: x, title: t, when: {op: '>', value: 1}, actions: {escalate: {after: 1m}}}\n",
        name="x",
    )
    alert = StoredAlert(rule_id="x", severity=Severity.EMERGENCY)
    [change] = due_escalations([alert], rules, T0 + timedelta(minutes=2))
    assert change.severity == Severity.EMERGENCY


def _silence(**kw: object) -> Silence:
    base = {
        "id": "s1",
        "matchers": (Matcher(label="zone", value="chu*"),),
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=2),
        "reason": "maintenance du capteur",
        "created_by": "manager1",
    }
    return Silence(**{**base, **kw})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("labels", "minutes", "expected"),
    [
        ({"zone": "chu-nord", "rule": "r"}, 10, True),
        ({"zone": "chu-nord", "rule": "r"}, -1, False),  # not started
        ({"zone": "chu-nord", "rule": "r"}, 120, False),  # ended (end excluded)
        ({"zone": "centre", "rule": "r"}, 10, False),
        ({"rule": "r"}, 10, False),
    ],
)
def test_silence_matches_labels_within_its_time(labels: dict[str, str], minutes: int, expected: bool) -> None:
    assert is_silenced(labels, [_silence()], T0 + timedelta(minutes=minutes)) is expected


def test_silence_negative_matcher_and_all_must_match() -> None:
    silence = _silence(
        matchers=(Matcher(label="zone", value="chu*"), Matcher(label="rule", value="x", op="!="))
    )
    now = T0 + timedelta(minutes=1)
    assert silencing({"zone": "chu", "rule": "y"}, [silence], now) == [silence]
    assert silencing({"zone": "chu", "rule": "x"}, [silence], now) == []


@pytest.mark.parametrize(
    "bad",
    [
        {"matchers": ()},
        {"ends_at": T0},
        {"reason": "  "},
    ],
)
def test_silence_validation(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _silence(**bad)


INHIBIT = [
    InhibitRule(
        source=[Matcher(label="scope", value="zone")],
        target=[Matcher(label="scope", value="sensor")],
        equal=["zone", "domain"],
    )
]


def test_zone_alert_inhibits_its_sensor_alerts() -> None:
    zone_alert = {"scope": "zone", "zone": "centre", "domain": "air", "rule": "air.zone"}
    sensor = {"scope": "sensor", "zone": "centre", "domain": "air", "rule": "air.no2", "source": "s1"}
    assert inhibited_by(sensor, [zone_alert], INHIBIT) == zone_alert
    assert not is_inhibited({**sensor, "zone": "nord"}, [zone_alert], INHIBIT)
    assert not is_inhibited({**sensor, "domain": "pollen"}, [zone_alert], INHIBIT)
    assert not is_inhibited(zone_alert, [zone_alert], INHIBIT)  # never itself
    no_zone = {k: v for k, v in sensor.items() if k != "zone"}
    assert not is_inhibited(no_zone, [{k: v for k, v in zone_alert.items() if k != "zone"}], INHIBIT)
    assert not is_inhibited(sensor, [], INHIBIT)


def test_replace_keeps_stored_alert_independent() -> None:
    a = StoredAlert()
    b = replace(a, fingerprint="fp2")
    assert [c.fingerprint for c in due_escalations([a, b], RULES, T0 + timedelta(minutes=15))] == [
        "fp1",
        "fp2",
    ]
