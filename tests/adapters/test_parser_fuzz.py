"""Property tests: whatever bytes or JSON a feed sends, a parser returns readings or raises AdapterError."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
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
from adapters.errors import AdapterError
from hypervision.domain import Reading
from tests.adapters.feeds import at, fixture

RECEIVED = at(2026, 11, 30, 9, 30)
LOCATION = fixture("air", "openaq_v3_location.json")
LATEST = fixture("air", "openaq_v3_locations_latest.json")

# parser, and the recorded payload its structured mutations start from
PARSERS: dict[str, tuple[Callable[..., list[Reading]], tuple[str, str]]] = {
    "openaq": (
        lambda p, **kw: openaq.parse(p, location=LOCATION, **kw),
        ("air", "openaq_v3_locations_latest.json"),
    ),
    "openaq_location": (
        lambda p, **kw: openaq.parse(LATEST, location=p, **kw),
        ("air", "openaq_v3_location.json"),
    ),
    "atmo_indice": (atmo_indice.parse, ("air", "atmo_indice_gwadair_arcgis.json")),
    "atmo_episode": (atmo_episode.parse, ("air", "atmo_episode_pollution_alrt3j_feature.json")),
    "fiware_air": (fiware_air.parse, ("air", "fiware_AirQualityObserved_normalized.jsonld")),
    "openmeteo_pollen": (openmeteo_pollen.parse, ("pollen", "openmeteo_airquality_pollen_berlin.json")),
    "fiware_pollen": (fiware_pollen.parse, ("pollen", "fiware_AeroAllergenObserved_normalized.jsonld")),
    "atmo_pollen": (atmo_pollen.parse, ("pollen", "atmo_indice_pollen_dijon.geojson")),
    "fiware_lighting": (fiware_lighting.parse, ("lighting", "fiware_Streetlight_normalized.jsonld")),
    "talq": (talq.parse, ("lighting", "talq_logreport_gateway.json")),
    "waste_centre": (waste_centre.parse, ("waste", "osm_overpass_dechetterie_recycling_centre.geojson")),
    "waste_counter": (waste_counter.parse, ("waste", "waste_centre_counters.json")),
    "fiware_waste": (
        fiware_waste.parse,
        ("waste", "fiware_WasteContainer_normalized_2021_fillingLevel.jsonld"),
    ),
    "stock_json": (stock_json.parse, ("stock", "mask_stock_summary.json")),
    "fhir_beds": (fhir_beds.parse, ("hospital", "fhir_saner_measurereport_bedcapacity.json")),
}
CSV_PARSERS = {
    "stock_csv": (stock_csv.parse, ("stock", "mask_stock_upload.csv")),
    "sivic": (sivic.parse, ("hospital", "fr_donnees_hospitalieres_covid19_sample.csv")),
}
ALL = PARSERS | CSV_PARSERS

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def survives(parse: Callable[..., list[Reading]], payload: bytes | str) -> None:
    try:
        readings = parse(payload, received_at=RECEIVED)
    except AdapterError as err:
        assert err.reason
        return
    assert all(isinstance(r, Reading) for r in readings)
    # and with rejects collected, nothing escapes either
    parse(payload, received_at=RECEIVED, rejects=[])


@pytest.mark.parametrize("name", sorted(ALL))
@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes(name: str, data: bytes) -> None:
    survives(ALL[name][0], data)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(value=json_values)
def test_random_json(name: str, value: Any) -> None:
    survives(PARSERS[name][0], json.dumps(value))


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            out += _paths(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            out += _paths(child, (*path, index))
    return out


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(data=st.data())
def test_recorded_payload_with_one_value_replaced(name: str, data: st.DataObject) -> None:
    """Mutations of the real payload reach deep into the parser, where random JSON never goes."""
    parse, (family, file) = PARSERS[name]
    doc = json.loads(fixture(family, file))
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    replacement = data.draw(json_values)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = replacement
    survives(parse, json.dumps(doc))


@pytest.mark.parametrize("name", sorted(CSV_PARSERS))
@FUZZ
@given(data=st.data())
def test_recorded_csv_with_one_cell_replaced(name: str, data: st.DataObject) -> None:
    parse, (family, file) = CSV_PARSERS[name]
    lines = fixture(family, file).decode().splitlines()
    row = data.draw(st.integers(0, len(lines) - 1))
    cells = lines[row].split(";")
    col = data.draw(st.integers(0, len(cells) - 1))
    cells[col] = data.draw(st.text(max_size=12))
    lines[row] = ";".join(cells)
    survives(parse, "\n".join(lines))
