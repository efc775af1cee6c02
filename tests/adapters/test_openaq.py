"""OpenAQ v3 latest joined with the location's sensors: pollutant names, ppm → µg/m³, local offsets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters import openaq
from adapters.errors import AdapterError
from adapters.source import SourceConfig
from tests.adapters.feeds import at, by_metric, fixture, mutated

LATEST = fixture("air", "openaq_v3_locations_latest.json")
LOCATION = fixture("air", "openaq_v3_location.json")
RECEIVED = at(2024, 9, 25, 22, 30)


def test_latest_joined_with_sensors_gives_named_pollutants_in_mass_units() -> None:
    readings = by_metric(openaq.parse(LATEST, location=LOCATION, received_at=RECEIVED))
    assert set(readings) == {"no2", "so2", "pm25", "o3", "pm10", "co", "nox", "no"}
    # 0.0023 ppm NO2 at 20 °C / 1013 hPa: 2.3 ppb × 46.0055 / 24.055 = 4.399 µg/m³
    assert readings["no2"].value == pytest.approx(4.3988, abs=1e-3)
    assert readings["no2"].unit == "µg/m³"
    assert readings["o3"].value == pytest.approx(67 * 47.9982 / 24.0553, rel=1e-4)
    assert (readings["co"].value, readings["co"].unit) == (pytest.approx(0.2329, abs=1e-3), "mg/m³")
    assert (readings["pm10"].value, readings["pm10"].unit) == (29.0, "µg/m³")  # particles untouched
    assert readings["no2"].attrs["raw_unit"] == "ppm"
    assert readings["pm25"].source == "openaq:2178"
    # the station's own offset is kept, and means the same instant as the UTC field
    observed = readings["pm10"].observed_at
    assert observed.utcoffset() == timedelta(hours=-6)
    assert observed == at(2024, 9, 25, 22, 0)
    assert (readings["pm10"].lat, readings["pm10"].lon) == (35.1353, -106.584702)


def test_bundle_from_fetch_and_source_labels() -> None:
    bundle = b'{"latest":' + LATEST + b',"location":' + LOCATION + b"}"
    source = SourceConfig(id="air:station:albq", kind="openaq", zone="centre")
    readings = openaq.parse(bundle, received_at=RECEIVED, source=source)
    assert len(readings) == 8
    assert {r.source for r in readings} == {"air:station:albq"}
    assert {r.zone for r in readings} == {"centre"}


def test_unknown_sensor_is_rejected_alone_when_rejects_are_collected() -> None:
    broken = mutated(
        "air", "openaq_v3_locations_latest.json", lambda d: d["results"][0].update(sensorsId=999)
    )
    rejects: list[AdapterError] = []
    readings = openaq.parse(broken, location=LOCATION, received_at=RECEIVED, rejects=rejects)
    assert len(readings) == 7
    assert [(e.field, e.reason) for e in rejects] == [
        ("results[0].sensorsId", "sensor not listed by the location")
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["results"][2].update(value="4.4"), "results[2].value"),
        (lambda d: d["results"][2].update(value=-3), "results[2].value"),
        (lambda d: d["results"][1].pop("datetime"), "results[1].datetime"),
        (lambda d: d["results"][1]["datetime"].update(local="yesterday"), "results[1].datetime.local"),
        (lambda d: d.pop("results"), "results"),
    ],
)
def test_broken_latest_names_the_field(change, field: str) -> None:
    with pytest.raises(AdapterError) as caught:
        openaq.parse(
            mutated("air", "openaq_v3_locations_latest.json", change), location=LOCATION, received_at=RECEIVED
        )
    assert caught.value.field == field


def test_broken_location_names_the_field() -> None:
    broken = mutated(
        "air", "openaq_v3_location.json", lambda d: d["results"][0]["sensors"][2].pop("parameter")
    )
    with pytest.raises(AdapterError) as caught:
        openaq.parse(LATEST, location=broken, received_at=RECEIVED)
    assert caught.value.field == "location.results[0].sensors[2].parameter"


def test_unsupported_unit_is_an_error() -> None:
    broken = mutated(
        "air",
        "openaq_v3_location.json",
        lambda d: d["results"][0]["sensors"][2]["parameter"].update(units="furlongs"),
    )
    with pytest.raises(AdapterError, match="unsupported unit"):
        openaq.parse(LATEST, location=broken, received_at=RECEIVED)
