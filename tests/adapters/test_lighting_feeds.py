"""Lighting: FIWARE Streetlight / StreetlightGroup / StreetlightControlCabinet and TALQ log reports."""

from __future__ import annotations

import json

import pytest

from adapters import fiware_lighting, talq
from adapters.errors import AdapterError
from tests.adapters.feeds import at, by_metric, doc, fixture, mutated

RECEIVED = at(2026, 11, 30, 17, 0)


@pytest.mark.parametrize(
    "name", ["fiware_Streetlight_normalized.jsonld", "fiware_Streetlight_keyvalues.json"]
)
def test_streetlight_both_representations_agree(name: str) -> None:
    readings = by_metric(fiware_lighting.parse(fixture("lighting", name), received_at=RECEIVED))
    assert readings["powerState"].value == "off"
    assert readings["status"].value == "ok"
    assert readings["lampFailure"].value == 0.0
    assert (readings["powerConsumption"].value, readings["powerConsumption"].unit) == (10.0, "W")
    assert readings["powerState"].observed_at.isoformat() == "2021-01-11T15:51:02+05:30"
    assert readings["powerState"].lat == pytest.approx(40.62785)


def test_defective_lamp_is_a_lamp_failure() -> None:
    payload = mutated(
        "lighting",
        "fiware_Streetlight_normalized.jsonld",
        lambda d: d["status"].update(value="defectiveLamp"),
    )
    assert by_metric(fiware_lighting.parse(payload, received_at=RECEIVED))["lampFailure"].value == 1.0


def test_group_and_cabinet() -> None:
    group = by_metric(
        fiware_lighting.parse(
            fixture("lighting", "fiware_StreetlightGroup_normalized.jsonld"), received_at=RECEIVED
        )
    )
    assert group["powerState"].value == "on"
    assert group["powerState"].observed_at == RECEIVED  # no observation time in a group: arrival time
    assert group["powerState"].lat is None  # a MultiLineString has no single point
    cabinet = by_metric(
        fiware_lighting.parse(
            fixture("lighting", "fiware_StreetlightControlCabinet_normalized.jsonld"), received_at=RECEIVED
        )
    )
    assert (cabinet["energyConsumed"].value, cabinet["energyConsumed"].unit) == (162456.0, "kWh")
    assert cabinet["intensityT"].value == 22.0
    assert cabinet["workingMode"].value == "automatic"
    assert cabinet["energyConsumed"].attrs["entity_type"] == "StreetlightControlCabinet"


def test_mixed_entity_array_from_a_context_broker() -> None:
    entities = [
        doc("lighting", "fiware_Streetlight_normalized.jsonld"),
        doc("lighting", "fiware_StreetlightGroup_normalized.jsonld"),
    ]
    readings = fiware_lighting.parse(json.dumps(entities), received_at=RECEIVED)
    assert {r.source for r in readings} == {
        "fiware_lighting/streetlight:guadalajara:4567",
        "fiware_lighting/streetlightgroup:mycity:A12",
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["powerState"].update(value="dim"), "powerState"),
        (lambda d: d["status"].update(value=3), "status"),
        (lambda d: d.update(illuminanceLevel={"type": "Property", "value": 1.5}), "illuminanceLevel"),
        (lambda d: d["powerConsumption"].update(value=-4), "powerConsumption"),
        (
            lambda d: d["observationDateTime"]["value"].update({"@value": "2021-13-45T00:00:00Z"}),
            "observationDateTime",
        ),
    ],
)
def test_streetlight_broken_variants(change, field: str) -> None:
    with pytest.raises(AdapterError) as caught:
        fiware_lighting.parse(
            mutated("lighting", "fiware_Streetlight_normalized.jsonld", change), received_at=RECEIVED
        )
    assert caught.value.field == field


def test_talq_log_report_entries_become_readings_per_function() -> None:
    readings = talq.parse(fixture("lighting", "talq_logreport_gateway.json"), received_at=RECEIVED)
    lamp42 = by_metric([r for r in readings if r.source == "talq/gw-dijon-07/lamp/0042/monitor"])
    assert (lamp42["activePower"].value, lamp42["activePower"].unit) == (38.5, "W")
    assert (lamp42["activeEnergy"].unit, lamp42["operatingHours"].unit) == ("kWh", "h")
    failed = [r for r in readings if r.metric == "lampFailure"]
    assert [(r.source, r.value) for r in failed] == [("talq/gw-dijon-07/lamp/0043/monitor", 1.0)]
    light = next(r for r in readings if r.metric == "actualLightState")
    assert (light.value, light.unit) == (80.0, "%")
    assert light.observed_at.isoformat() == "2026-11-30T17:45:00+01:00"
    assert all(r.metric != "targetLightCommand" for r in readings)  # commands are not measurements


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e["data"].update(attributeValue=140), "entries[3].data.attributeValue"),
        (lambda e: e["data"].update(attributeValue="80%"), "entries[3].data.attributeValue"),
        (lambda e: e["data"].pop("timestamp"), "entries[3].data.timestamp"),
        (lambda e: e["data"].pop("srcAddress"), "entries[3].data.srcAddress"),
        (lambda e: e.pop("data"), "entries[3].data"),
    ],
)
def test_talq_broken_entry_is_named_and_others_flow(change, field: str) -> None:
    payload = mutated("lighting", "talq_logreport_gateway.json", lambda d: change(d["entries"][3]))
    with pytest.raises(AdapterError) as caught:
        talq.parse(payload, received_at=RECEIVED)
    assert caught.value.field == field
    rejects: list[AdapterError] = []
    assert len(talq.parse(payload, received_at=RECEIVED, rejects=rejects)) == 5
    assert [e.field for e in rejects] == [field]
