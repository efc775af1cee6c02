"""Every condition kind, driven through the engine: comparisons, windows, consecutive, absence, schedules,
combinations across metrics of a zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from alerts.lifecycle import AlertEvent
from alerts.schedule import TZ
from tests.alerts.rulekit import T0, Driver, reading

HOUR = 3600.0


def rule(when: str, extra: str = "", select: str = "{domain: air, metric: no2}") -> str:
    return f"""
rules:
  - id: r
    title: "t {{value}}"
    select: {select}
    when: {when}
    update_every: 0
{extra}"""


def fired(d: Driver) -> bool:
    """Is the alert open after everything fed so far?"""
    state = False
    for c in d.changes:
        if c.event == AlertEvent.FIRE:
            state = True
        elif c.event == AlertEvent.RESOLVE:
            state = False
    return state


@pytest.mark.parametrize(
    ("when", "values", "expected"),
    [
        ('{op: ">", value: 200}', [200], False),
        ('{op: ">", value: 200}', [200.5], True),
        ('{op: ">=", value: 200}', [200], True),
        ('{op: "<", value: 10}', [9.9], True),
        ('{op: "<", value: 10}', [10], False),
        ('{op: "<=", value: 10}', [10], True),
        ('{op: "==", value: 3}', [3], True),
        ('{op: "!=", value: 3}', [3], False),
        ('{op: "==", value: "Off"}', ["off"], True),  # text states compare case-insensitively
        ('{op: "!=", value: "on"}', ["ON"], False),
        ('{op: "in", value: [4, 5]}', [5], True),
        ('{op: "in", value: [4, 5]}', [3], False),
        ('{op: "in", value: [high, very high]}', ["Very High"], True),
        ('{op: "not in", value: [ok, idle]}', ["fault"], True),
        ('{op: ">", value: 4}', ["high"], False),  # a text value never passes a numeric test
        ('{op: "==", value: 4}', ["4"], False),
    ],
)
def test_comparisons_on_latest(driver_for: Any, when: str, values: list[Any], expected: bool) -> None:
    d: Driver = driver_for(rule(when))
    for i, v in enumerate(values):
        d.read(v, i)
    assert fired(d) is expected


def test_mean_over_24h_is_a_sliding_window(driver_for: Any) -> None:
    d: Driver = driver_for(rule('{agg: mean, over: 24h, op: ">", value: 50}'))
    for h in range(24):
        d.read(40, h * HOUR)  # a day at 40
    assert not fired(d)
    for h in range(24, 36):
        d.read(70, h * HOUR)  # 12 h at 70: mean of the last 24 h = (12*40 + 12*70)/24 = 55
    assert fired(d)
    [fire] = [c for c in d.changes if c.event == AlertEvent.FIRE]
    # It fires when the mean first exceeds 50: after 24 h window has 9 of 70 and 15 of 40 -> 51.25
    assert fire.value == pytest.approx(51.25)
    assert (fire.at - d.changes[0].at).total_seconds() >= 0
    for h in range(36, 60):
        d.read(30, h * HOUR)
    assert not fired(d)


@pytest.mark.parametrize(
    ("agg", "op", "threshold", "values", "expected"),
    [
        ("max", ">", 80, [10, 90, 10], True),
        ("max", ">", 80, [10, 70, 10], False),
        ("min", "<", 5, [10, 4, 10], True),
        ("min", "<", 5, [10, 6, 10], False),
        ("count", ">=", 3, [1, 1, 1], True),
        ("count", ">=", 4, [1, 1, 1], False),
        # rate = change per hour between first and last sample of the window (here 10 per 10 min)
        ("rate", ">", 50, [0, 10, 20], True),
        ("rate", ">", 70, [0, 10, 20], False),
        ("rate", "<", -50, [20, 10, 0], True),
    ],
)
def test_window_aggregates(
    driver_for: Any, agg: str, op: str, threshold: float, values: list[float], expected: bool
) -> None:
    d: Driver = driver_for(rule(f'{{agg: {agg}, over: 1h, op: "{op}", value: {threshold}}}'))
    for i, v in enumerate(values):
        d.read(v, i * 600)
    assert fired(d) is expected


def test_window_forgets_old_samples(driver_for: Any) -> None:
    d: Driver = driver_for(rule('{agg: max, over: 1h, op: ">", value: 80}'))
    d.read(90, 0)
    assert fired(d)
    d.read(10, 1800)
    assert fired(d)  # 90 still in the last hour
    d.read(10, 3700)
    assert not fired(d)


def test_count_of_text_states(driver_for: Any) -> None:
    d: Driver = driver_for(rule('{agg: count, over: 1h, op: ">=", value: 3}'))
    for i in range(3):
        d.read("fault", i * 60)
    assert fired(d)


def test_n_consecutive(driver_for: Any) -> None:
    d: Driver = driver_for(rule('{op: ">", value: 200, consecutive: 3}'))
    for i, v in enumerate([250, 250, 150, 250, 250]):
        d.read(v, i * 60)
    assert not fired(d)
    d.read(250, 300)
    assert fired(d)
    d.read(100, 360)
    assert not fired(d)


def test_absence_fires_on_tick_and_clears_on_reading(driver_for: Any) -> None:
    d: Driver = driver_for(rule("{absent_for: 2h}", select="{domain: air}") + "    group_by: [source]\n")
    d.read(10, 0, metric="pm10")
    assert d.tick(HOUR) == []
    d.read(11, HOUR + 60, metric="no2")  # any metric of the source counts as a sign of life
    assert d.tick(3 * HOUR) == []
    [fire] = d.tick(3 * HOUR + 61)
    assert fire.event == AlertEvent.FIRE
    assert fire.labels["source"] == "air:station:FR04143"
    assert "metric" not in fire.labels
    assert d.tick(4 * HOUR) == []
    [resolve] = d.read(12, 4 * HOUR, metric="pm10")
    assert resolve.event == AlertEvent.RESOLVE


def test_absence_uses_observation_time(driver_for: Any) -> None:
    d: Driver = driver_for(rule("{absent_for: 2h}"))
    d.read(10, 0)
    # Delivered 3 h late: it is no sign of fresh life, the source is still silent.
    [fire] = d.engine.on_reading(reading(11, at=60), T0 + timedelta(hours=3))
    assert fire.event == AlertEvent.FIRE


@pytest.mark.parametrize(
    ("schedule", "local_time", "expected"),
    [
        # T0 is Monday 30 Nov 2026; times are Europe/Paris wall-clock (UTC+1 in winter).
        ("{hours: '08:00-18:00'}", "10:00", True),
        ("{hours: '08:00-18:00'}", "18:00", False),
        ("{hours: '22:00-06:00'}", "23:30", True),
        ("{hours: '22:00-06:00'}", "05:59", True),
        ("{hours: '22:00-06:00'}", "06:00", False),
        ("{hours: ['07:00-09:00', '17:00-19:00']}", "18:00", True),
        ("{weekdays: [mo, tu]}", "10:00", True),
        ("{weekdays: [sa, su]}", "10:00", False),
        ("{sun: night}", "07:30", True),  # sunrise in Dijon on 30 Nov is about 08:11
        ("{sun: night}", "08:30", False),
        ("{sun: day}", "12:00", True),
        ("{sun: night}", "17:30", True),  # sunset about 16:55
        ("{opening_hours: 'Mo-Fr 09:00-12:00,14:00-18:00'}", "10:00", True),
        ("{opening_hours: 'Mo-Fr 09:00-12:00,14:00-18:00'}", "13:00", False),
        ("{opening_hours: 'Sa 09:00-18:00'}", "10:00", False),
        ("{opening_hours: 'Mo-Sa 09:00-18:00', weekdays: [tu]}", "10:00", False),
    ],
)
def test_schedules_in_paris_time(driver_for: Any, schedule: str, local_time: str, expected: bool) -> None:
    d: Driver = driver_for(rule(f"{{all: [{{op: '==', value: 'off'}}, {{schedule: {schedule}}}]}}"))
    hh, mm = (int(x) for x in local_time.split(":"))
    at = (datetime(2026, 11, 30, hh, mm, tzinfo=TZ) - T0).total_seconds()
    d.read("off", at)
    assert fired(d) is expected


def test_opening_hours_know_french_public_holidays(driver_for: Any) -> None:
    d: Driver = driver_for(
        rule("{all: [{op: '>', value: 1}, {schedule: {opening_hours: 'Mo-Sa 09:00-18:00; PH off'}}]}")
    )
    christmas = (datetime(2026, 12, 25, 10, 0, tzinfo=TZ) - T0).total_seconds()  # a Friday
    d.read(5, christmas)
    assert not fired(d)
    d.read(5, christmas + 86400)  # Saturday 26th: open
    assert fired(d)


def test_schedule_rule_fires_on_tick_when_the_period_starts(driver_for: Any) -> None:
    # Cabinet reports "off" at noon (day: fine), nothing more; at sunset it becomes an alert.
    d: Driver = driver_for(
        rule("{all: [{op: '==', value: 'off'}, {schedule: {sun: night}}]}", select="{domain: lighting}")
    )
    noon = (datetime(2026, 11, 30, 12, 0, tzinfo=TZ) - T0).total_seconds()
    d.read("off", noon, domain="lighting", metric="powerState")
    assert not fired(d)
    assert d.tick(noon + 4 * HOUR) == []  # 16:00, still day
    [fire] = d.tick(noon + 5 * HOUR)  # 17:00, after sunset
    assert fire.event == AlertEvent.FIRE
    assert fire.value == "off"
    # At sunrise the schedule no longer holds: resolved without any new reading.
    next_morning = (datetime(2026, 12, 1, 9, 0, tzinfo=TZ) - T0).total_seconds()
    assert [c.event for c in d.tick(next_morning)] == [AlertEvent.RESOLVE]


COMBO = """
rules:
  - id: pollen.helpline
    title: "Pollen {values.allergenRisk} et {values.callersWaiting} appels en attente ({zone})"
    group_by: [zone]
    when:
      all:
        - {domain: pollen, metric: allergenRisk, op: ">=", value: 4}
        - {domain: call_line, metric: callersWaiting, op: ">", value: 10}
"""


def test_all_across_metrics_of_a_zone(driver_for: Any) -> None:
    d: Driver = driver_for(COMBO)
    d.read(5, 0, domain="pollen", metric="allergenRisk", source="pollen:dijon")
    assert not fired(d)
    d.read(12, 60, domain="call_line", metric="callersWaiting", source="pbx:queue:info", zone="autre")
    assert not fired(d)  # another zone
    [fire] = d.read(12, 120, domain="call_line", metric="callersWaiting", source="pbx:queue:info")
    assert fire.labels == {"zone": "dijon-centre", "rule": "pollen.helpline"}
    assert fire.title == "Pollen 5 et 12 appels en attente (dijon-centre)"
    d.read(3, 180, domain="pollen", metric="allergenRisk", source="pollen:dijon")
    assert not fired(d)


def test_any_across_metrics(driver_for: Any) -> None:
    text = COMBO.replace("all:", "any:")
    d: Driver = driver_for(text)
    d.read(12, 0, domain="call_line", metric="callersWaiting", source="pbx:queue:info")
    assert fired(d)


def test_zone_rule_fires_if_any_source_of_the_zone_holds(driver_for: Any) -> None:
    d: Driver = driver_for(rule('{op: ">", value: 200}') + "    group_by: [zone]\n")
    d.read(100, 0, source="a")
    d.read(300, 10, source="b")
    d.read(100, 20, source="a")
    assert fired(d)
    d.read(100, 30, source="b")
    assert not fired(d)


def test_not(driver_for: Any) -> None:
    d: Driver = driver_for(rule("{not: {op: 'in', value: [on, dimmed]}}"))
    d.read("on", 0)
    assert not fired(d)
    d.read("fault", 10)
    assert fired(d)


def test_selector_source_glob_zone_and_attrs(driver_for: Any) -> None:
    select = "{domain: air, metric: no2, source: 'air:station:FR041*', zone: 'dijon-*', attrs: {kind: urban}}"
    d: Driver = driver_for(rule('{op: ">", value: 200}', select=select))
    assert d.read(300, 0, source="air:station:FR05000", attrs={"kind": "urban"}) == []
    assert d.read(300, 0, zone="beaune", attrs={"kind": "urban"}) == []
    assert d.read(300, 0, zone=None, attrs={"kind": "urban"}) == []
    assert d.read(300, 0, attrs={"kind": "traffic"}) == []
    assert [c.event for c in d.read(300, 0, attrs={"kind": "urban"})] == [AlertEvent.FIRE]


def test_zone_grouping_ignores_readings_without_zone(driver_for: Any) -> None:
    d: Driver = driver_for(rule('{op: ">", value: 200}') + "    group_by: [zone]\n")
    assert d.read(300, 0, zone=None) == []


def test_out_of_order_reading_does_not_override_newer(driver_for: Any) -> None:
    d: Driver = driver_for(rule('{op: ">", value: 200}'))
    d.read(300, 100)
    assert d.read(100, 50) == []
    assert fired(d)
