"""Renderers are the inverse of the parsers: what is rendered parses back to the same values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import (
    atmo_episode,
    atmo_indice,
    atmo_pollen,
    fhir_beds,
    fiware_air,
    fiware_lighting,
    fiware_pollen,
    fiware_waste,
    openaq,
    openmeteo_pollen,
    sivic,
    stock_csv,
    stock_json,
    talq,
    waste_centre,
    waste_counter,
)
from adapters.render import air, hospital, lighting, pollen, stock, waste
from tests.adapters.feeds import by_metric

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=PARIS)

concentration = st.floats(min_value=0, max_value=2000, allow_nan=False).map(lambda v: round(v, 1))


@settings(max_examples=50, deadline=None)
@given(
    no2=concentration, o3=concentration, pm10=concentration, co=st.floats(0, 50).map(lambda v: round(v, 2))
)
def test_openaq_ppm_round_trip(no2: float, o3: float, pm10: float, co: float) -> None:
    latest, location = air.openaq(
        9001, "Valmont Centre", 47.32, 5.04, {"no2": no2, "o3": o3, "pm10": pm10, "co": co}, NOW
    )
    readings = by_metric(openaq.parse(air.openaq_bundle(latest, location), received_at=NOW))
    assert readings["no2"].value == pytest.approx(no2, abs=0.01)
    assert readings["o3"].value == pytest.approx(o3, abs=0.01)
    assert readings["pm10"].value == pm10
    assert readings["co"].value == pytest.approx(co, abs=0.001)
    assert readings["no2"].observed_at == NOW


def test_atmo_indice_and_episode_round_trip() -> None:
    items = [
        air.AtmoIndex("21999", "Valmont", NOW.date(), 5, {"no2": 5, "pm10": 3}, 47.3, 5.0),
        air.AtmoIndex("21999", "Valmont", NOW.date() + timedelta(days=1), 2),
    ]
    readings = by_metric(atmo_indice.parse(air.atmo_indice(items, published=NOW), received_at=NOW))
    assert (readings["atmoIndex"].value, readings["atmoIndexNo2"].value, readings["atmoIndexPm10"].value) == (
        5,
        5,
        3,
    )
    episodes = [air.Episode("21", "Côte-d'Or", NOW, "o3", 2), air.Episode("21", "Côte-d'Or", NOW, "pm10", 1)]
    readings = by_metric(atmo_episode.parse(air.atmo_episode(episodes, published=NOW), received_at=NOW))
    assert (
        readings["episodeLevelO3"].value,
        readings["episodeLevelPm10"].value,
        readings["episodeLevel"].value,
    ) == (
        2,
        1,
        2,
    )


@pytest.mark.parametrize("key_values", [False, True])
def test_fiware_air_round_trip(key_values: bool) -> None:
    body = air.fiware_air(
        "FR-VAL-02", {"no2": 88.5, "so2": 4.0, "co": 0.4}, NOW, 47.31, 5.0, key_values=key_values
    )
    readings = by_metric(fiware_air.parse(body, received_at=NOW))
    assert (readings["no2"].value, readings["so2"].value) == (88.5, 4.0)
    # keyValues has no unitCode: the renderer sends CO in µg/m³, the unit readers assume
    assert (readings["co"].value, readings["co"].unit) == (0.4, "mg/m³")
    assert readings["no2"].observed_at == NOW


def test_pollen_round_trips() -> None:
    first = NOW.replace(hour=0)
    hourly = {"birch_pollen": [float(h) for h in range(24)], "grass_pollen": [None] * 24}
    body = pollen.openmeteo(47.3, 5.0, "Europe/Paris", first, hourly)
    readings = by_metric(openmeteo_pollen.parse(body, received_at=NOW))
    assert (readings["pollenBirch"].value, readings["pollenBirch"].observed_at) == (10.0, NOW)
    assert "pollenGrass" not in readings
    body = pollen.aero_allergen("VAL", "high", NOW, 47.3, 5.0)
    assert by_metric(fiware_pollen.parse(body, received_at=NOW))["allergenRiskLevel"].value == 3
    items = [
        pollen.AtmoPollen("21999", "Valmont", NOW.date(), 4, {"code_boul": 4, "code_gram": 2}, "BOULEAU")
    ]
    readings = by_metric(atmo_pollen.parse(pollen.atmo_pollen(items, published=NOW), received_at=NOW))
    assert (readings["pollenIndex"].value, readings["pollenIndexBirch"].value) == (4, 4)


def test_lighting_round_trips() -> None:
    entities = [
        lighting.streetlight("SL-1", "on", "defectiveLamp", NOW, 47.3, 5.0, power_w=0.0),
        lighting.streetlight_group("C-CENTRE", "on", NOW, area="Valmont Centre"),
        lighting.control_cabinet("C-CENTRE", 1234.5, (10.0, 11.0, 12.0), "automatic", NOW, 47.3, 5.0),
    ]
    readings = fiware_lighting.parse(lighting.entities(entities), received_at=NOW)
    by_source = {(r.source, r.metric): r.value for r in readings}
    assert by_source[("fiware_lighting/SL-1", "lampFailure")] == 1.0
    assert by_source[("fiware_lighting/C-CENTRE", "powerState")] == "on"
    assert by_source[("fiware_lighting/C-CENTRE", "energyConsumed")] == 1234.5
    entries = [
        lighting.TalqEntry("talq://gw/lamp/1/monitor", NOW, "lampFailure", True),
        lighting.TalqEntry("talq://gw/lamp/1/monitor", NOW, "activePower", 41.0),
    ]
    readings = by_metric(talq.parse(lighting.talq_log("talq://gw/logger/1", entries), received_at=NOW))
    assert (readings["lampFailure"].value, readings["activePower"].value) == (1.0, 41.0)


def test_waste_round_trips() -> None:
    centres = [waste.Centre("way/1", "Déchetterie Nord", "Mo-Sa 09:00-12:00,13:00-17:00", 47.34, 5.03)]
    body = waste.overpass_centres(centres, generated=NOW)
    assert by_metric(waste_centre.parse(body, received_at=NOW))["isOpen"].value == 1.0
    assert (
        by_metric(waste_centre.parse(body, received_at=NOW.replace(hour=12, minute=30)))["isOpen"].value
        == 0.0
    )
    sites = [waste.Counter("nord", "Nord", NOW, visitors_last_hour=40, queue_length=6, queue_wait_min=9.5)]
    readings = by_metric(waste_counter.parse(waste.counters(sites, generated=NOW), received_at=NOW))
    assert (readings["queueLength"].value, readings["queueWait"].value) == (6, 9.5)
    body = waste.waste_container("WC-7", 0.85, "ok", NOW, 47.3, 5.0)
    assert by_metric(fiware_waste.parse(body, received_at=NOW))["fillingLevel"].value == 0.85


@settings(max_examples=40, deadline=None)
@given(
    on_hand=st.integers(0, 10**6),
    per_hour=st.one_of(st.none(), st.floats(0.5, 5000).map(lambda v: round(v, 1))),
    reserved=st.one_of(st.none(), st.integers(0, 10**5)),
)
def test_stock_round_trips_in_both_formats(
    on_hand: int, per_hour: float | None, reserved: int | None
) -> None:
    sites = [stock.SiteFigures("hdv", "Hôtel de ville; salle 2", NOW, on_hand, per_hour, reserved, 12.0)]
    for parse, body in (
        (stock_json.parse, stock.stock_json(sites)),
        (stock_csv.parse, stock.stock_csv(sites)),
    ):
        readings = by_metric(parse(body, received_at=NOW))
        assert readings["stockOnHand"].value == on_hand
        assert ("distributedPerHour" in readings) == (per_hour is not None)
        if per_hour:
            assert readings["daysOfCover"].value == pytest.approx(
                max(on_hand - (reserved or 0), 0) / (per_hour * 10), abs=0.01
            )


def test_hospital_round_trips() -> None:
    counts = {"numTotBeds": 900, "numbeds": 800, "numBedsOcc": 640, "numICUBeds": 60, "numICUBedsOcc": None}
    body = hospital.measure_report("chu-1", "210780581", "CHU Valmont", NOW, counts)
    readings = by_metric(fhir_beds.parse(body, received_at=NOW))
    assert readings["bedOccupancy"].value == 80.0
    assert "numICUBedsOcc" not in readings and "icuOccupancy" not in readings
    days = [
        hospital.SivicDay("21", date(2026, 11, 29), 150, 20, 900, 40),
        hospital.SivicDay("21", date(2026, 11, 30), 162, 23, 910, 41),
    ]
    readings = by_metric(
        sivic.parse(hospital.sivic(days), received_at=datetime(2026, 11, 30, 18, tzinfo=UTC))
    )
    assert (readings["hospitalized"].value, readings["intensiveCare"].value) == (162, 23)
