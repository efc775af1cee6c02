"""Atmo France indice ATMO: code_qual and sub-indices per zone, epoch-ms or ISO dates, today only."""

from __future__ import annotations

import json

import pytest

from adapters import atmo_indice
from adapters.errors import AdapterError
from adapters.source import SourceConfig
from tests.adapters.feeds import at, by_metric, doc, fixture, mutated

NAME = "atmo_indice_gwadair_arcgis.json"


def test_arcgis_answer_gives_index_and_sub_indices() -> None:
    readings = by_metric(atmo_indice.parse(fixture("air", NAME), received_at=at(2025, 11, 8, 12)))
    index = readings["atmoIndex"]
    assert (index.value, index.unit, index.attrs["label"]) == (1.0, "index", "Bon")
    assert index.source == "atmo_indice/97101"
    assert index.observed_at == at(2025, 11, 8, 4)  # date_ech 1762574400000 ms
    assert (index.lat, index.lon) == (pytest.approx(16.269, abs=1e-3), pytest.approx(-61.4917, abs=1e-3))
    assert set(readings) >= {"atmoIndexNo2", "atmoIndexSo2", "atmoIndexO3", "atmoIndexPm10", "atmoIndexPm25"}


def test_geojson_with_iso_dates_keeps_today_not_tomorrow() -> None:
    base = doc("air", NAME)["features"][0]["attributes"]
    today = base | {"date_ech": "2026-11-30", "code_qual": 4, "code_zone": "21231"}
    tomorrow = base | {"date_ech": "2026-12-01", "code_qual": 2, "code_zone": "21231"}
    payload = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {"type": "Feature", "properties": tomorrow, "geometry": None},
                {"type": "Feature", "properties": today, "geometry": None},
            ],
        }
    )
    source = SourceConfig(id="air:atmo", kind="atmo_indice", options={"zones": {"21231": "dijon-centre"}})
    readings = by_metric(atmo_indice.parse(payload, received_at=at(2026, 11, 30, 23, 30), source=source))
    # 23:30 UTC is already 1 December in Paris: the territory's day decides
    assert readings["atmoIndex"].value == 2.0
    assert readings["atmoIndex"].zone == "dijon-centre"
    readings = by_metric(atmo_indice.parse(payload, received_at=at(2026, 11, 30, 9), source=source))
    assert readings["atmoIndex"].value == 4.0


def test_unavailable_index_yields_nothing_rather_than_a_good_day() -> None:
    payload = mutated("air", NAME, lambda d: d["features"][0]["attributes"].update(code_qual=0, code_no2=0))
    readings = atmo_indice.parse(payload, received_at=at(2025, 11, 8, 12))
    assert "atmoIndex" not in by_metric(readings)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda a: a.update(code_qual=9), "features[0].attributes.code_qual"),
        (lambda a: a.update(code_qual="bon"), "features[0].attributes.code_qual"),
        (lambda a: a.pop("date_ech"), "features[0].attributes.date_ech"),
        (lambda a: a.update(code_pm10=2.5), "features[0].attributes.code_pm10"),
        (lambda a: a.pop("code_zone"), "features[0].attributes.code_zone"),
    ],
)
def test_broken_feature_names_the_field(change, field: str) -> None:
    payload = mutated("air", NAME, lambda d: change(d["features"][0]["attributes"]))
    with pytest.raises(AdapterError) as caught:
        atmo_indice.parse(payload, received_at=at(2025, 11, 8, 12))
    assert caught.value.field == field
