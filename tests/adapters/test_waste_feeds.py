"""Waste centre: OSM opening_hours state, the crowding counter feed, FIWARE WasteContainer."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from adapters import fiware_waste, waste_centre, waste_counter
from adapters.errors import AdapterError
from tests.adapters.feeds import at, by_metric, doc, fixture, mutated

OSM = "osm_overpass_dechetterie_recycling_centre.geojson"
PARIS = ZoneInfo("Europe/Paris")
HOURS = "Mo-Sa 09:00-12:00,13:00-17:00; Tu off; Th off; Fr 13:00-17:00"


@pytest.mark.parametrize(
    ("when", "state", "next_change"),
    [
        (at(2026, 11, 30, 9, 30), "open", "2026-11-30T12:00:00+01:00"),  # Monday 10:30
        (at(2026, 11, 30, 11, 30), "closed", "2026-11-30T13:00:00+01:00"),  # Monday lunch break
        (at(2026, 12, 1, 9, 30), "closed", "2026-12-02T09:00:00+01:00"),  # Tuesday off
        (at(2026, 12, 4, 9, 30), "closed", "2026-12-04T13:00:00+01:00"),  # Friday: afternoon only
        (at(2026, 12, 6, 9, 30), "closed", "2026-12-07T09:00:00+01:00"),  # Sunday
    ],
)
def test_opening_state_of_the_recorded_hours(when, state: str, next_change: str) -> None:
    got, change = waste_centre.opening_state(HOURS, when, tz=PARIS, country="FR", field="x")
    assert got == state
    assert change is not None and change.isoformat() == next_change


def test_public_holiday_closes_a_ph_off_centre() -> None:
    # 25 December 2026 is a Friday and a French public holiday
    state, _ = waste_centre.opening_state(
        "Mo-Sa 09:00-18:00; PH off", at(2026, 12, 25, 10), tz=PARIS, country="FR", field="x"
    )
    assert state == "closed"


def test_overpass_export_gives_state_per_centre_with_hours() -> None:
    readings = waste_centre.parse(fixture("waste", OSM), received_at=at(2026, 11, 30, 9, 30))
    assert {r.source for r in readings} == {"waste_centre/way/231551023"}  # the only centre with hours
    values = by_metric(readings)
    assert values["openingState"].value == "open"
    assert values["isOpen"].value == 1.0
    assert values["isOpen"].attrs["name"] == "Déchetterie de Vouillé"
    assert values["isOpen"].attrs["hours_tag"] == "collection_times"
    assert values["isOpen"].lat == pytest.approx(46.3096, abs=1e-3)


def test_unreadable_hours_are_rejected_with_the_field() -> None:
    payload = mutated(
        "waste", OSM, lambda d: d["features"][1]["properties"].update(opening_hours="lundi 9h-12h")
    )
    with pytest.raises(AdapterError) as caught:
        waste_centre.parse(payload, received_at=at(2026, 11, 30, 9, 30))
    assert caught.value.field == "features[1].properties.opening_hours"
    assert "unreadable opening_hours" in caught.value.reason


def test_counter_feed() -> None:
    readings = waste_counter.parse(
        fixture("waste", "waste_centre_counters.json"), received_at=at(2026, 11, 30, 9, 30)
    )
    nord = by_metric([r for r in readings if r.source == "waste_counter/dechetterie-nord"])
    assert (nord["queueLength"].value, nord["queueLength"].unit) == (7.0, "vehicles")
    assert (nord["queueWait"].value, nord["queueWait"].unit) == (12.0, "min")
    assert (nord["occupancy"].value, nord["occupancy"].unit) == (64.3, "%")
    assert nord["visitorsToday"].observed_at.isoformat() == "2026-11-30T10:15:00+01:00"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: s.update(queueLength=-2), "sites[0].queueLength"),
        (lambda s: s.update(queueLength="7"), "sites[0].queueLength"),
        (lambda s: s.update(capacity=0), "sites[0].capacity"),
        (lambda s: s.pop("id"), "sites[0].id"),
        (lambda s: s.update(observedAt="now"), "sites[0].observedAt"),
    ],
)
def test_counter_broken_variants(change, field: str) -> None:
    payload = mutated("waste", "waste_centre_counters.json", lambda d: change(d["sites"][0]))
    with pytest.raises(AdapterError) as caught:
        waste_counter.parse(payload, received_at=at(2026, 11, 30, 9, 30))
    assert caught.value.field == field


@pytest.mark.parametrize(
    "name",
    [
        "fiware_WasteContainer_keyvalues_2021_fillingLevel.json",
        "fiware_WasteContainer_normalized_2021_fillingLevel.jsonld",
    ],
)
def test_waste_container_both_representations(name: str) -> None:
    readings = by_metric(fiware_waste.parse(fixture("waste", name), received_at=at(2026, 11, 30, 9, 30)))
    assert (readings["fillingLevel"].value, readings["fillingLevel"].unit) == (0.4, "")
    assert readings["status"].value == "ok"
    assert readings["temperature"].unit == "°C"
    assert readings["fillingLevel"].attrs["date_last_emptying"] == "2016-06-21T15:05:59.408Z"


def test_waste_container_array_and_broken_level() -> None:
    good = doc("waste", "fiware_WasteContainer_keyvalues_2021_fillingLevel.json")
    bad = dict(good, id="wastecontainer:Fleming:12b", fillingLevel=1.7)
    rejects: list[AdapterError] = []
    readings = fiware_waste.parse(json.dumps([good, bad]), received_at=at(2026, 1, 1), rejects=rejects)
    assert {r.source for r in readings} == {"fiware_waste/wastecontainer:Fleming:12a"}
    assert [(e.field, e.reason) for e in rejects] == [("[1].fillingLevel", "1.7 is above the maximum 1")]
