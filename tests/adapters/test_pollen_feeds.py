"""Pollen: Open-Meteo hourly arrays (nulls skipped), FIWARE AeroAllergenObserved, Atmo indices by taxon."""

from __future__ import annotations

import pytest

from adapters import atmo_pollen, fiware_pollen, openmeteo_pollen
from adapters.errors import AdapterError
from tests.adapters.feeds import at, by_metric, fixture, mutated

OPENMETEO = "openmeteo_airquality_pollen_berlin.json"
AERO = "fiware_AeroAllergenObserved_normalized.jsonld"
ATMO = "atmo_indice_pollen_dijon.geojson"


def test_openmeteo_takes_the_hour_at_or_before_arrival_in_the_feed_zone() -> None:
    readings = by_metric(
        openmeteo_pollen.parse(fixture("pollen", OPENMETEO), received_at=at(2026, 10, 1, 9, 30))
    )
    assert set(readings) == {
        "pollenAlder",
        "pollenBirch",
        "pollenGrass",
        "pollenMugwort",
        "pollenOlive",
        "pollenRagweed",
    }
    ragweed = readings["pollenRagweed"]
    # 09:30 UTC is 11:30 in Berlin: the 11:00 slot (index 11) holds 0.3 grains/m³
    assert ragweed.observed_at.isoformat() == "2026-10-01T11:00:00+02:00"
    assert (ragweed.value, ragweed.unit) == (0.3, "grains/m³")
    assert ragweed.attrs["forecast_max_24h"] == 0.3
    assert (ragweed.lat, ragweed.lon) == (52.5, pytest.approx(13.4))


def test_openmeteo_nulls_fall_back_to_the_last_real_value() -> None:
    def blank(d: dict) -> None:
        d["hourly"]["ragweed_pollen"][10:12] = [None, None]
        d["hourly"]["birch_pollen"] = [None] * 24

    readings = by_metric(
        openmeteo_pollen.parse(mutated("pollen", OPENMETEO, blank), received_at=at(2026, 10, 1, 9, 30))
    )
    assert readings["pollenRagweed"].observed_at.hour == 9
    assert readings["pollenRagweed"].value == 0.4
    assert "pollenBirch" not in readings  # a series with no value is not a zero


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["hourly"]["grass_pollen"].pop(), "hourly.grass_pollen"),
        (lambda d: d["hourly"]["grass_pollen"].__setitem__(3, -1), "hourly.grass_pollen[3]"),
        (lambda d: d["hourly"]["time"].__setitem__(0, "01/10/2026"), "hourly.time[0]"),
        (lambda d: d.update(timezone="Mars/Olympus"), "timezone"),
        (lambda d: d.pop("hourly"), "hourly"),
    ],
)
def test_openmeteo_broken_variants_name_the_field(change, field: str) -> None:
    with pytest.raises(AdapterError) as caught:
        openmeteo_pollen.parse(mutated("pollen", OPENMETEO, change), received_at=at(2026, 10, 1, 9, 30))
    assert caught.value.field == field


def test_aeroallergen_risk_as_text_and_level() -> None:
    readings = by_metric(fiware_pollen.parse(fixture("pollen", AERO), received_at=at(2026, 1, 1)))
    assert readings["allergenRisk"].value == "moderate"
    assert readings["allergenRiskLevel"].value == 2.0
    assert readings["allergenRisk"].observed_at == at(2018, 2, 11)
    assert readings["allergenRisk"].lat == pytest.approx(19.381877)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["allergenRisk"].update(value="extreme"), "allergenRisk"),
        (lambda d: d.pop("allergenRisk"), "allergenRisk"),
        (lambda d: d["dateObserved"]["value"].update({"@value": "hier"}), "dateObserved"),
    ],
)
def test_aeroallergen_broken_variants(change, field: str) -> None:
    with pytest.raises(AdapterError) as caught:
        fiware_pollen.parse(mutated("pollen", AERO, change), received_at=at(2026, 1, 1))
    assert caught.value.field == field


def test_atmo_pollen_today_per_zone_with_taxa() -> None:
    readings = atmo_pollen.parse(fixture("pollen", ATMO), received_at=at(2026, 4, 14, 12))
    dijon = by_metric([r for r in readings if r.source == "atmo_pollen/21231"])
    assert dijon["pollenIndex"].value == 4.0  # today's, not tomorrow's 5
    assert dijon["pollenIndex"].attrs["responsible_taxon"] == "BOULEAU"
    assert dijon["pollenIndexBirch"].value == 4.0
    assert dijon["pollenIndexRagweed"].value == 0.0
    chenove = by_metric([r for r in readings if r.source == "atmo_pollen/21166"])
    assert "pollenIndexOlive" not in chenove  # null: taxon not monitored there
    next_day = atmo_pollen.parse(fixture("pollen", ATMO), received_at=at(2026, 4, 15, 8))
    index = {r.source: r.value for r in next_day if r.metric == "pollenIndex"}
    # the next day Dijon's forecast becomes current; Chenôve has no newer day and keeps its last
    assert index == {"atmo_pollen/21231": 5.0, "atmo_pollen/21166": 3.0}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p.update(code_qual=7), "features[0].properties.code_qual"),
        (lambda p: p.update(code_boul="fort"), "features[0].properties.code_boul"),
        (lambda p: p.update(code_zone=None), "features[0].properties.code_zone"),
    ],
)
def test_atmo_pollen_broken_variants(change, field: str) -> None:
    with pytest.raises(AdapterError) as caught:
        atmo_pollen.parse(
            mutated("pollen", ATMO, lambda d: change(d["features"][0]["properties"])),
            received_at=at(2026, 4, 14, 12),
        )
    assert caught.value.field == field
