"""Hospital: FHIR SANER bed-capacity MeasureReport (JSON) and the SI-VIC CSV."""

from __future__ import annotations

import json

import pytest

from adapters import fhir_beds, sivic
from adapters.errors import AdapterError
from adapters.source import SourceConfig
from tests.adapters.feeds import at, by_metric, doc, fixture, mutated

REPORT = "fhir_saner_measurereport_bedcapacity.json"
SIVIC = fixture("hospital", "fr_donnees_hospitalieres_covid19_sample.csv").decode()
RECEIVED = at(2026, 11, 30, 9, 30)


def test_measure_report_counts_and_absent_values() -> None:
    readings = by_metric(fhir_beds.parse(fixture("hospital", REPORT), received_at=RECEIVED))
    assert (readings["numTotBeds"].value, readings["numTotBeds"].unit) == (20000.0, "beds")
    assert readings["numbeds"].value == 15000.0
    assert readings["numICUBeds"].value == 2500.0
    assert (readings["numVent"].value, readings["numVent"].unit) == (2250.0, "ventilators")
    assert (readings["numC19HospPats"].value, readings["numC19HospPats"].unit) == (4000.0, "patients")
    # data-absent-reason "unsupported": no value, and no occupancy can be derived from it
    assert "numBedsOcc" not in readings and "bedOccupancy" not in readings
    assert readings["numbeds"].observed_at.isoformat() == "2020-04-04T00:00:00-05:00"
    assert readings["numbeds"].attrs["subject"] == "State of New Jersey"


def test_occupancy_is_derived_when_both_counts_exist() -> None:
    def fill(d: dict) -> None:
        d["group"][0]["population"][2]["count"] = 12000
        d["group"][0]["population"][4]["count"] = 2000

    readings = by_metric(fhir_beds.parse(mutated("hospital", REPORT, fill), received_at=RECEIVED))
    assert (readings["bedOccupancy"].value, readings["bedOccupancy"].unit) == (80.0, "%")
    assert readings["icuOccupancy"].value == 80.0


def test_bundle_labels_each_subject() -> None:
    one, two = doc("hospital", REPORT), doc("hospital", REPORT)
    two["subject"]["identifier"]["value"] = "21"
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": one}, {"resource": two}]}
    readings = fhir_beds.parse(json.dumps(bundle), received_at=RECEIVED)
    assert {r.source for r in readings} == {"fhir_beds/34", "fhir_beds/21"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["group"][0]["population"][0].update(count=-1), "group[0].population[0].count"),
        (lambda d: d["group"][0]["population"][0].update(count=1.5), "group[0].population[0].count"),
        (lambda d: d["group"][0]["population"][1].pop("code"), "group[0].population[1].code"),
        (lambda d: d.update(resourceType="Observation"), "resourceType"),
        (lambda d: d["period"].update(end="April 4th"), "period.end"),
    ],
)
def test_measure_report_broken_variants(change, field: str) -> None:
    with pytest.raises(AdapterError) as caught:
        fhir_beds.parse(mutated("hospital", REPORT, change), received_at=RECEIVED)
    assert caught.value.field == field


def test_sivic_sample_keeps_both_sexes_row() -> None:
    readings = by_metric(sivic.parse(SIVIC, received_at=RECEIVED))
    assert (readings["hospitalized"].value, readings["hospitalized"].unit) == (2.0, "patients")
    assert readings["intensiveCare"].value == 0.0
    assert readings["hospitalized"].source == "sivic/01"
    assert readings["hospitalized"].observed_at.isoformat() == "2020-03-18T00:00:00+01:00"
    assert readings["deaths"].attrs["kind"] == "cumulative"


def test_sivic_latest_day_per_department_and_filter() -> None:
    body = SIVIC + '"01";0;"2020-03-19";5;1;1;0\n"21";0;"2020-03-19";9;3;0;0\n"01";0;"2020-03-17";1;0;0;0\n'
    readings = sivic.parse(body, received_at=RECEIVED)
    hosp = {r.source: r.value for r in readings if r.metric == "hospitalized"}
    assert hosp == {"sivic/01": 5.0, "sivic/21": 9.0}
    source = SourceConfig(id="hosp:sivic", kind="sivic", options={"departments": ["21"]})
    only = sivic.parse(body, received_at=RECEIVED, source=source)
    assert {r.source for r in only} == {"hosp:sivic/21"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (SIVIC.replace('0;"2020-03-18";2;0', '0;"2020-03-18";deux;0'), "line 2.hosp"),
        (SIVIC.replace('"rea";', ""), "line 1"),
        (SIVIC.replace('0;"2020-03-18";2', '0;"18/03/2020";2'), "line 2.jour"),
        (SIVIC.replace(";1;0\n", ";1\n", 1), "line 2"),
    ],
)
def test_sivic_broken_variants(body: str, field: str) -> None:
    with pytest.raises(AdapterError) as caught:
        sivic.parse(body, received_at=RECEIVED)
    assert caught.value.field == field
