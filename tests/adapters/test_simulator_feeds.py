"""The simulator's feeds in real formats parse back, per scenario, to the world's values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.registry import KINDS, adapter_for
from adapters.simulator.feeds import demo_sources, render_feeds
from adapters.simulator.world import SCENARIOS, SOURCES, metric_value
from adapters.source import SourceConfig
from hypervision.domain import Reading

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Valmont
BASE = "http://sim.test"
KINDS_DOMAINS = {domain.value for _, domain in KINDS.values()} - {"call_line"}


def parse_all(scenario: str, now: datetime = NOW, elapsed_min: float = 10) -> dict[str, list[Reading]]:
    feeds = render_feeds(now, scenario=scenario, started_at=now - timedelta(minutes=elapsed_min))
    out: dict[str, list[Reading]] = {}
    for source in demo_sources(BASE):
        path = source.url.removeprefix(BASE)
        body = feeds[path].body
        if source.kind == "openaq":
            body = b'{"latest":' + feeds[f"{path}/latest"].body + b',"location":' + body + b"}"
        rejects: list = []
        out[source.id] = adapter_for(source.kind).parse(body, received_at=now, source=source, rejects=rejects)
        assert rejects == [], (source.id, rejects)
    return out


def value(readings: dict[str, list[Reading]], source: str, metric: str) -> float | str:
    matches = [r.value for rs in readings.values() for r in rs if r.source == source and r.metric == metric]
    assert len(matches) == 1, (source, metric, matches)
    return matches[0]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_demo_source_yields_readings_in_every_scenario(scenario: str) -> None:
    readings = parse_all(scenario)
    assert all(readings[s] for s in readings), [s for s in readings if not readings[s]]
    assert {r.domain.value for rs in readings.values() for r in rs} == set(KINDS_DOMAINS)


def test_every_pulled_kind_is_exercised_by_the_demo_except_the_csv_upload() -> None:
    kinds = {s.kind for s in demo_sources(BASE)}
    assert set(KINDS) - kinds == {"stock_csv"}  # the CSV is uploaded by the team, not polled


def test_parsed_values_match_the_world() -> None:
    readings = parse_all("normal-day")
    station = next(s for s in SOURCES if s.id == "air:station:FR-VAL-01")
    for metric in ("pm10", "no2", "o3"):
        expected = metric_value(station, metric, NOW, "normal-day", timedelta(minutes=10))
        assert value(readings, "air:station:FR-VAL-01", metric) == pytest.approx(expected, abs=0.01)
    assert value(readings, "waste:centres/node/9001", "isOpen") == 1.0
    assert {r.zone for r in readings["waste:centres"]} == {"valmont-nord"}
    mask = next(s for s in SOURCES if s.id == "mask_drive:site:GYMNASE-SUD")
    assert value(readings, "mask_drive:stock/GYMNASE-SUD", "daysOfCover") == metric_value(
        mask, "daysOfCover", NOW, "normal-day", timedelta(minutes=10)
    )


def test_pollution_peak_raises_the_episode_and_the_index() -> None:
    calm, peak = parse_all("normal-day"), parse_all("pollution-peak")
    assert value(calm, "air:episodes/21", "episodeLevel") == 0.0
    assert value(peak, "air:episodes/21", "episodeLevel") == 2.0
    assert value(peak, "air:atmo/21999", "atmoIndex") >= 5


def test_cabinet_failure_at_night_turns_lamps_off() -> None:
    night = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    normal = parse_all("normal-day", night)
    failed = parse_all("lighting-cabinet-failure", night)
    assert value(normal, "lighting:fiware/C-TILLEULS", "powerState") == "on"
    assert value(failed, "lighting:fiware/C-TILLEULS", "powerState") == "off"
    lit = [r for r in failed["lighting:talq:C-TILLEULS"] if r.metric == "actualLightState"]
    assert lit and all(r.value == 0.0 for r in lit)


def test_covid_wave_fills_the_hospital() -> None:
    calm = parse_all("normal-day", elapsed_min=30)
    wave = parse_all("covid-wave", elapsed_min=30)
    assert value(wave, "hospital:fhir:CHU-VALMONT", "bedOccupancy") > value(
        calm, "hospital:fhir:CHU-VALMONT", "bedOccupancy"
    )
    assert value(wave, "hospital:sivic/21", "hospitalized") > value(calm, "hospital:sivic/21", "hospitalized")


def test_demo_sources_are_valid_configs() -> None:
    sources = demo_sources(BASE, interval_s=5)
    assert len({s.id for s in sources}) == len(sources)
    assert all(isinstance(s, SourceConfig) and s.interval_s == 5 for s in sources)
