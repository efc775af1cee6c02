"""FIWARE AirQualityObserved, normalized and keyValues: unitCode GQ/GP, canonical units, arrays."""

from __future__ import annotations

import json

import pytest

from adapters import fiware_air
from adapters.errors import AdapterError
from tests.adapters.feeds import at, by_metric, doc, fixture, mutated

NORMALIZED = "fiware_AirQualityObserved_normalized.jsonld"
KEYVALUES = "fiware_AirQualityObserved_keyvalues.json"


def test_normalized_entity_reads_unit_codes() -> None:
    readings = by_metric(fiware_air.parse(fixture("air", NORMALIZED), received_at=at(2026, 1, 1)))
    assert (readings["no2"].value, readings["no2"].unit) == (69.0, "µg/m³")
    assert (readings["co"].value, readings["co"].unit) == (500.0, "mg/m³")  # GP = mg/m³, CO's own unit
    assert readings["airQualityLevel"].value == "moderate"
    # naive dateObserved is read in the territory's zone (Europe/Paris: +01:00 in March)
    assert readings["no2"].observed_at.isoformat() == "2016-03-15T11:00:00+01:00"
    assert (readings["no2"].lat, readings["no2"].lon) == (
        pytest.approx(40.4238, abs=1e-4),
        pytest.approx(-3.7122, abs=1e-4),
    )


def test_keyvalues_entity_defaults_to_micrograms_and_keeps_the_upstream_quirk_visible() -> None:
    readings = by_metric(fiware_air.parse(fixture("air", KEYVALUES), received_at=at(2026, 1, 1)))
    # keyValues drops unitCode: the model's default µg/m³ applies, so CO 500 µg/m³ = 0.5 mg/m³
    assert (readings["co"].value, readings["co"].unit) == (0.5, "mg/m³")
    # upstream quirk: keyValues says co2 where normalized says no2; CO2 is not an air-quality pollutant here
    assert "no2" not in readings and "co2" not in readings
    assert readings["so2"].value == 11.0


def test_entity_array_labels_each_entity() -> None:
    one, two = doc("air", NORMALIZED), doc("air", NORMALIZED)
    two["id"] = "urn:ngsi-ld:AirQualityObserved:dijon-station-2"
    readings = fiware_air.parse(json.dumps([one, two]), received_at=at(2026, 1, 1))
    assert {r.source for r in readings} == {
        "fiware_air/Madrid-AmbientObserved-28079004-2016-03-15T11:00:00",
        "fiware_air/dijon-station-2",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["no2"].update(value="69"), "no2"),
        (lambda d: d["no2"].update(value=-1), "no2"),
        (lambda d: d["no2"].update(unitCode="XYZ"), "no2"),
        (lambda d: d["dateObserved"].update(value="mardi"), "dateObserved"),
        (lambda d: d.update(type="WeatherObserved"), "type"),
        (lambda d: d["location"]["value"].update(coordinates=[200, 40]), "location.coordinates[0]"),
    ],
)
def test_broken_entity_names_the_field(change, field: str) -> None:
    with pytest.raises(AdapterError) as caught:
        fiware_air.parse(mutated("air", NORMALIZED, change), received_at=at(2026, 1, 1))
    assert caught.value.field == field
