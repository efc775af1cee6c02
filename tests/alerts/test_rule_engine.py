"""Engine on threshold rules: firing, resolving, severities, throttled updates, `for`, hysteresis."""

from __future__ import annotations

from typing import Any

from alerts.action import CapAction, TaskAction, WebhookAction
from alerts.engine import AlertChange, Engine
from alerts.lifecycle import AlertEvent
from alerts.loader import load_rules_text
from hypervision.domain import Severity
from tests.alerts.rulekit import T0, Driver, engine_for, reading

NO2 = """
rules:
  - id: air.no2.hourly
    title: "NO2 {value:.0f} {unit} à {source}"
    description: "Seuil dépassé depuis {since}"
    select: {domain: air, metric: no2}
    when: {op: ">", value: 200}
    severity: warning
    update_every: 10m
    labels: {team: environnement}
    levels:
      - severity: critical
        when: {op: ">", value: 400}
"""


def test_threshold_fires_updates_and_resolves(driver_for: Any) -> None:
    d: Driver = driver_for(NO2)
    assert d.read(150, 0) == []
    [fire] = d.read(250, 60)
    assert fire.event == AlertEvent.FIRE
    assert fire.severity == Severity.WARNING
    assert fire.value == 250.0
    assert fire.title == "NO2 250 µg/m³ à air:station:FR04143"
    assert fire.labels == {
        "team": "environnement",
        "domain": "air",
        "metric": "no2",
        "zone": "dijon-centre",
        "source": "air:station:FR04143",
        "rule": "air.no2.hourly",
    }
    assert fire.at == T0.replace(minute=1)
    # Still above: no change for every reading.
    assert d.read(260, 120) == []
    assert d.read(270, 180) == []
    [rise] = d.read(450, 240)
    assert (rise.event, rise.severity) == (AlertEvent.UPDATE, Severity.CRITICAL)
    # Severity never drops while open.
    assert d.read(300, 300) == []
    [resolve] = d.read(100, 360)
    assert resolve.event == AlertEvent.RESOLVE
    assert resolve.fingerprint == fire.fingerprint == rise.fingerprint
    # A new firing after resolution starts at the base severity again.
    [again] = d.read(210, 420)
    assert (again.event, again.severity) == (AlertEvent.FIRE, Severity.WARNING)


def test_update_is_throttled_to_update_every(driver_for: Any) -> None:
    d: Driver = driver_for(NO2)
    d.read(250, 0)
    values = [251 + i for i in range(60)]  # one changing reading per 30 s for 30 min
    updates = [c for i, v in enumerate(values) for c in d.read(v, 30 * (i + 1))]
    assert [c.event for c in updates] == [AlertEvent.UPDATE] * 3  # at 10, 20 and 30 min
    assert [round((c.at - T0).total_seconds()) for c in updates] == [600, 1200, 1800]


def test_same_value_does_not_update(driver_for: Any) -> None:
    d: Driver = driver_for(NO2)
    d.read(250, 0)
    assert [c for i in range(1, 100) for c in d.read(250, 60 * i)] == []


def test_fingerprint_is_per_source_and_stable(driver_for: Any) -> None:
    a: Driver = driver_for(NO2)
    b: Driver = driver_for(NO2)
    [f1] = a.read(250, 0)
    [f2] = a.read(250, 0, source="air:station:FR04145")
    [f3] = b.read(300, 50)
    assert f1.fingerprint != f2.fingerprint
    assert f1.fingerprint == f3.fingerprint


def test_unrelated_readings_are_ignored(driver_for: Any) -> None:
    d: Driver = driver_for(NO2)
    assert d.read(999, 0, metric="pm10") == []
    assert d.read(999, 0, domain="pollen", metric="no2") == []


def test_for_keeps_pending_then_fires_on_tick(driver_for: Any) -> None:
    d: Driver = driver_for(NO2.replace("update_every: 10m", "update_every: 10m\n    for: 5m"))
    assert d.events(d.read(250, 0)) == ["pend"]
    assert d.tick(240) == []
    [fire] = d.tick(300)
    assert fire.event == AlertEvent.FIRE
    assert d.tick(400) == []


def test_pending_that_clears_resolves_without_firing(driver_for: Any) -> None:
    d: Driver = driver_for(NO2.replace("update_every: 10m", "update_every: 10m\n    for: 5m"))
    d.read(250, 0)
    assert d.events(d.read(150, 120)) == ["resolve"]
    assert d.tick(600) == []
    assert d.events() == ["pend", "resolve"]


def test_clear_condition_is_hysteresis(driver_for: Any) -> None:
    d: Driver = driver_for(NO2 + "    clear: {op: '<', value: 180}\n")
    d.read(250, 0)
    for i, v in enumerate([190, 210, 185, 199, 205]):  # oscillating around 200, above 180
        assert d.read(v, 60 * (i + 1)) == []
    assert d.events(d.read(170, 600)) == ["resolve"]


def test_keep_firing_for(driver_for: Any) -> None:
    d: Driver = driver_for(NO2 + "    keep_firing_for: 10m\n")
    d.read(250, 0)
    assert d.read(150, 60) == []
    assert d.read(260, 120) == []  # back above: the clear timer restarts
    assert d.read(150, 180) == []
    assert d.tick(700) == []
    assert d.events(d.tick(780)) == ["resolve"]


def test_dirty_state_only_when_needed() -> None:
    engine = engine_for(NO2)
    engine.on_reading(reading(100), T0)
    # A quiet threshold rule keeps nothing worth persisting.
    assert engine.take_dirty_state() == {}
    [fire] = engine.on_reading(reading(300), T0)
    dirty = engine.take_dirty_state()
    assert list(dirty) == [f"air.no2.hourly|{fire.fingerprint}"]
    assert engine.take_dirty_state() == {}
    engine.on_reading(reading(100), T0)
    assert engine.take_dirty_state() == {f"air.no2.hourly|{fire.fingerprint}": None}


def test_restart_neither_forgets_pending_nor_fires_twice() -> None:
    text = NO2.replace("update_every: 10m", "update_every: 10m\n    for: 5m")
    first = engine_for(text)
    first.on_reading(reading(250), T0)
    saved = {k: v for k, v in first.take_dirty_state().items() if v is not None}
    second = engine_for(text)
    second.load_state(saved)
    [fire] = second.on_tick(T0.replace(minute=5))
    assert fire.event == AlertEvent.FIRE
    saved.update({k: v for k, v in second.take_dirty_state().items() if v is not None})
    third = engine_for(text)
    third.load_state(saved)
    assert third.on_reading(reading(260, at=400), T0.replace(minute=7)) == []
    assert third.on_tick(T0.replace(minute=9)) == []


def test_state_of_removed_rule_is_deleted() -> None:
    engine = engine_for(NO2)
    engine.on_reading(reading(300), T0)
    saved = {k: v for k, v in engine.take_dirty_state().items() if v is not None}
    other = Engine(load_rules_text("rules: []", name="empty.yaml"))
    other.load_state({**saved, "junk": b"{"})
    assert other.take_dirty_state() == dict.fromkeys([*saved, "junk"])


def test_corrupt_state_is_dropped_not_fatal() -> None:
    engine = engine_for(NO2)
    key = "air.no2.hourly|0000"
    engine.load_state({key: b'{"v": 1}'})
    assert engine.take_dirty_state() == {key: None}
    [fire] = engine.on_reading(reading(300), T0)
    assert fire.event == AlertEvent.FIRE


def test_reload_keeps_alerts_of_unchanged_rules_and_drops_removed_ones() -> None:
    text = NO2.replace("update_every: 10m", "update_every: 10m\n    for: 5m")
    other = """
  - id: other
    title: o
    select: {metric: pm10}
    when: {op: ">", value: 1}
"""
    engine = engine_for(text + other)
    [pend] = engine.on_reading(reading(250), T0)
    [fire_other] = engine.on_reading(reading(5, metric="pm10"), T0)
    engine.take_dirty_state()
    # Reload with `other` removed: the pending `for` keeps its start, nothing fires twice.
    reloaded = engine.with_rules(load_rules_text(text, name="v2.yaml"))
    assert reloaded.take_dirty_state() == {f"other|{fire_other.fingerprint}": None}
    assert reloaded.on_tick(T0.replace(minute=4)) == []
    [fire] = reloaded.on_tick(T0.replace(minute=5))
    assert (fire.event, fire.fingerprint) == (AlertEvent.FIRE, pend.fingerprint)
    # A changed condition keeps the open alert (no second FIRE) and re-evaluates on the next reading.
    changed = reloaded.with_rules(load_rules_text(text.replace("value: 200", "value: 300"), name="v3.yaml"))
    assert changed.on_reading(reading(320, at=400), T0.replace(minute=7)) == []
    assert [c.event for c in changed.on_reading(reading(250, at=500), T0.replace(minute=8))] == [
        AlertEvent.RESOLVE
    ]


ACTIONS = """
rules:
  - id: hospital.beds
    title: "Lits {value:.0f} %"
    select: {domain: hospital, metric: bedOccupancy}
    when: {op: ">=", value: 85}
    for: 1m
    levels: [{severity: critical, when: {op: ">=", value: 95}}]
    actions:
      tasks: [{team: sante, title: "Ouvrir des lits ({value:.0f} %)", due_in: 2h}]
      webhooks: [{url: "https://hooks.example/a", on: [fire, resolve]}]
    public: true
    cap:
      category: Health
      event: Saturation hospitalière
      fr: {headline: "Hôpital saturé à {value:.0f} %"}
"""


def test_actions_follow_the_lifecycle(driver_for: Any) -> None:
    d: Driver = driver_for(ACTIONS)
    kw = {"domain": "hospital", "metric": "bedOccupancy", "source": "chu"}

    def kinds(changes: list[AlertChange]) -> list[tuple[str, list[str]]]:
        return [(c.event.value, [a.kind for a in c.actions]) for c in changes]

    # A pending alert that clears never notified anyone: no webhook on its resolve.
    assert kinds(d.read(90, 0, **kw) + d.read(50, 30, **kw)) == [("pend", []), ("resolve", [])]
    assert kinds(d.read(90, 100, **kw) + d.tick(160)) == [("pend", []), ("fire", ["task", "webhook", "cap"])]
    fire = d.changes[-1]
    task, hook, cap = fire.actions
    assert isinstance(task, TaskAction) and task.title == "Ouvrir des lits (90 %)" and task.due_in_s == 7200
    assert task.priority == Severity.WARNING
    assert isinstance(hook, WebhookAction) and hook.url == "https://hooks.example/a"
    assert isinstance(cap, CapAction) and (cap.msg_type, cap.severity) == ("Alert", "Moderate")
    assert cap.fr.headline == "Hôpital saturé à 90 %" and cap.en is None
    [rise] = d.read(96, 200, **kw)
    assert kinds([rise]) == [("update", ["cap"])]
    assert rise.actions[0].msg_type == "Update" and rise.actions[0].severity == "Severe"  # type: ignore[union-attr]
    [resolve] = d.read(50, 300, **kw)
    assert kinds([resolve]) == [("resolve", ["webhook", "cap"])]
    assert resolve.actions[1].msg_type == "Cancel"  # type: ignore[union-attr]
