"""Hospital figures rendered as a FHIR SANER bed-capacity MeasureReport and as the SI-VIC CSV."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from adapters.render._json import dumps, iso

MEASURED = "http://hl7.org/fhir/uv/saner/CodeSystem/MeasuredValues"
GROUPS = "http://hl7.org/fhir/uv/saner/CodeSystem/MeasureGroupSystem"
POPULATION = "http://terminology.hl7.org/CodeSystem/measure-population"
ABSENT = {
    "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unsupported"}
    ]
}
BED_CODES = ("numTotBeds", "numbeds", "numBedsOcc", "numICUBeds", "numICUBedsOcc")


def measure_report(
    report_id: str, subject: str, subject_name: str, period_end: datetime, counts: Mapping[str, int | None]
) -> bytes:
    """A SANER MeasureReport with the Beds group; a ``None`` count is sent as data-absent."""
    populations = []
    for i, code in enumerate(BED_CODES):
        role = "initial-population" if i == 0 else "measure-population"
        pop: dict[str, Any] = {
            "code": {"coding": [{"system": MEASURED, "code": code}, {"system": POPULATION, "code": role}]}
        }
        value = counts.get(code)
        if value is None:
            pop["_count"] = ABSENT
        else:
            pop["count"] = value
        populations.append(pop)
    return dumps(
        {
            "resourceType": "MeasureReport",
            "id": report_id,
            "status": "complete",
            "type": "summary",
            "measure": "http://hl7.org/fhir/uv/saner/Measure/CDCPatientImpactAndHospitalCapacity",
            "subject": {
                "identifier": {"system": "urn:oid:1.2.250.1.71.4.2.2", "value": subject},
                "display": subject_name,
            },
            "date": iso(period_end),
            "period": {"start": iso(period_end), "end": iso(period_end)},
            "group": [{"code": {"coding": [{"system": GROUPS, "code": "Beds"}]}, "population": populations}],
        }
    )


@dataclass(frozen=True)
class SivicDay:
    dep: str
    day: date
    hosp: int
    rea: int
    rad: int
    dc: int


def sivic(days: Sequence[SivicDay]) -> bytes:
    """The data.gouv.fr file: quoted text, ``;``, rows for sexe 0 (all), 1 and 2 (split roughly in half)."""
    lines = ['"dep";"sexe";"jour";"hosp";"rea";"rad";"dc"']
    for d in days:
        for sexe, share in ((0, 1.0), (1, 0.5), (2, 0.5)):
            values = [round(v * share) for v in (d.hosp, d.rea, d.rad, d.dc)]
            lines.append(f'"{d.dep}";{sexe};"{d.day.isoformat()}";' + ";".join(str(v) for v in values))
    return ("\n".join(lines) + "\n").encode()
