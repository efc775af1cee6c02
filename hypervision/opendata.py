"""Open data: current readings as NGSI-LD entities (FIWARE Smart Data Models) and a daily CSV (pure).

Only four public, non-personal families are published, each as its Smart Data Model: air quality
(AirQualityObserved), pollen (AeroAllergenObserved), street lighting (Streetlight and, when a feed said
so, StreetlightGroup / StreetlightControlCabinet) and waste containers (WasteContainer). A reading is
published only through an attribute of its model, with the model's unit code: metrics without one,
free ``attrs`` and every other domain (helpline, hospital, mask drive) never leave the room.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from adapters import fiware_air, fiware_lighting, fiware_pollen, fiware_waste
from hypervision.domain import Reading

CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
_SDM = "https://raw.githubusercontent.com/smart-data-models/{}/master/context.jsonld"
LD_MIME = "application/ld+json"

# UN/CEFACT common codes, as the models write units (unitCode).
MASS_CODES = {"µg/m³": "GQ", "μg/m³": "GQ", "mg/m³": "GP"}
# The vocabularies are the adapters' own, so what is published is exactly what their parsers read back.
POLLUTANTS = fiware_air.POLLUTANTS

# allergenRisk is text in the model; French feeds give numbers. RNSA risk 0-5, Atmo pollen index 1-6,
# and the 0-4 level the FIWARE parser derives.
RISKS = tuple(sorted(fiware_pollen.RISK_LEVELS, key=fiware_pollen.RISK_LEVELS.__getitem__))
RNSA_RISK = {0: "none", 1: "low", 2: "low", 3: "moderate", 4: "high", 5: "veryHigh"}
ATMO_POLLEN_RISK = {1: "low", 2: "low", 3: "moderate", 4: "high", 5: "veryHigh", 6: "veryHigh"}

LIGHTING_TYPES = fiware_lighting.TYPES
POWER_STATES = fiware_lighting.POWER_STATES
LAMP_STATUSES = fiware_lighting.LAMP_STATUSES
WASTE_STATUSES = fiware_waste.STATUSES


@dataclass(frozen=True, slots=True)
class Attribute:
    """One published property: its model name, value and unit code."""

    name: str
    value: float | str
    unit_code: str | None = None


# A mapper turns one reading into the model attribute it feeds (None: not published).
Mapper = Callable[[Reading], Attribute | None]


@dataclass(frozen=True, slots=True)
class Model:
    domain: str
    entity_type: str
    context: str
    mapper: Mapper
    # which attribute wins when two metrics feed the same one (e.g. an Atmo index and a FIWARE index)
    preference: tuple[str, ...] = ()

    def type_of(self, reading: Reading) -> str:
        if self.domain == "lighting" and reading.attrs.get("entity_type") in LIGHTING_TYPES:
            return str(reading.attrs["entity_type"])
        return self.entity_type


def _number(reading: Reading, lo: float | None = None, hi: float | None = None) -> float | None:
    value = reading.numeric
    if value is None or (lo is not None and value < lo) or (hi is not None and value > hi):
        return None
    return value


def _air(r: Reading) -> Attribute | None:
    if r.metric in POLLUTANTS:
        code = MASS_CODES.get(r.unit)
        value = _number(r, lo=0)
        return Attribute(r.metric, value, code) if code and value is not None else None
    if r.metric in ("airQualityIndex", "atmoIndex"):
        value = _number(r, lo=0)
        return None if value is None else Attribute("airQualityIndex", value)
    if r.metric == "temperature" and r.unit == "°C":
        value = _number(r)
        return None if value is None else Attribute("temperature", value, "CEL")
    if r.metric == "relativeHumidity":
        value = _number(r, 0, 1)
        return None if value is None else Attribute("relativeHumidity", value)
    if r.metric == "windSpeed" and r.unit == "m/s":
        value = _number(r, lo=0)
        return None if value is None else Attribute("windSpeed", value, "MTS")
    if r.metric == "airQualityLevel" and isinstance(r.value, str):
        return Attribute("airQualityLevel", r.value)
    return None


def _risk_number(value: float, scale: Mapping[int, str]) -> str | None:
    return scale.get(int(value)) if value.is_integer() else None


def _pollen(r: Reading) -> Attribute | None:
    risk: str | None = None
    if r.metric == "allergenRisk":
        if isinstance(r.value, str):
            risk = r.value if r.value in RISKS else None
        else:
            risk = _risk_number(r.value, RNSA_RISK)
    elif r.metric == "allergenRiskLevel" and isinstance(r.value, float):
        risk = _risk_number(r.value, dict(enumerate(RISKS)))
    elif r.metric == "pollenIndex" and isinstance(r.value, float):
        risk = _risk_number(r.value, ATMO_POLLEN_RISK)
    return None if risk is None else Attribute("allergenRisk", risk)


# Numeric attributes per lighting entity type come with the parser's units; these are their codes.
UNIT_CODES = {"W": "WTT", "A": "AMP", "V": "VLT", "kWh": "KWH", "kW": "KWT"}


def _lighting(r: Reading) -> Attribute | None:
    kind = MODELS["lighting"].type_of(r)
    if isinstance(r.value, str):
        if r.metric == "powerState" and kind != "StreetlightControlCabinet" and r.value in POWER_STATES:
            return Attribute("powerState", r.value)
        if r.metric == "status" and kind == "Streetlight" and r.value in LAMP_STATUSES:
            return Attribute("status", r.value)
        if r.metric == "workingMode" and kind == "StreetlightControlCabinet":
            return Attribute("workingMode", r.value)
        return None
    unit = fiware_lighting.NUMERIC[kind].get(r.metric)
    if unit is None or r.unit != unit:
        return None
    value = _number(r, 0, 1) if r.metric == "illuminanceLevel" else _number(r, lo=0)
    return None if value is None else Attribute(r.metric, value, UNIT_CODES.get(unit))


def _waste(r: Reading) -> Attribute | None:
    if r.metric == "fillingLevel":
        value = _number(r, 0, 100)
        if value is None or r.unit not in ("", "%"):
            return None
        return Attribute("fillingLevel", round(value / 100, 4) if r.unit == "%" else min(value, 1.0))
    if r.metric == "temperature" and r.unit == "°C":
        value = _number(r)
        return None if value is None else Attribute("temperature", value, "CEL")
    if r.metric == "status" and r.value in WASTE_STATUSES:
        return Attribute("status", str(r.value))
    return None


MODELS: dict[str, Model] = {
    "air": Model(
        "air",
        "AirQualityObserved",
        _SDM.format("dataModel.Environment"),
        _air,
        preference=("airQualityIndex",),
    ),
    "pollen": Model(
        "pollen",
        "AeroAllergenObserved",
        _SDM.format("dataModel.Environment"),
        _pollen,
        preference=("allergenRisk", "allergenRiskLevel", "pollenIndex"),
    ),
    "lighting": Model("lighting", "Streetlight", _SDM.format("dataModel.Streetlighting"), _lighting),
    "waste": Model("waste", "WasteContainer", _SDM.format("dataModel.WasteManagement"), _waste),
}


def entity_id(entity_type: str, source: str) -> str:
    return f"urn:ngsi-ld:{entity_type}:{source}"


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _rank(model: Model, reading: Reading) -> int:
    """Lower wins when two metrics of one source feed the same attribute (a model name beats an alias)."""
    order = (*model.preference,)
    return order.index(reading.metric) if reading.metric in order else len(order)


def entities(domain: str, readings: Iterable[Reading], zone_names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The domain's current readings as NGSI-LD normalized entities, one per source, sorted by id."""
    model = MODELS[domain]
    chosen: dict[tuple[str, str], tuple[Reading, Attribute]] = {}
    for reading in readings:
        if reading.domain.value != domain:
            continue
        attribute = model.mapper(reading)
        if attribute is None:
            continue
        slot = (reading.source, attribute.name)
        held = chosen.get(slot)
        if held is None or (_rank(model, reading), -reading.observed_at.timestamp()) < (
            _rank(model, held[0]),
            -held[0].observed_at.timestamp(),
        ):
            chosen[slot] = (reading, attribute)
    by_source: dict[str, list[tuple[Reading, Attribute]]] = {}
    for (source, _), pair in sorted(chosen.items()):
        by_source.setdefault(source, []).append(pair)
    out = [_entity(model, pairs, zone_names) for pairs in by_source.values()]
    return sorted(out, key=lambda e: str(e["id"]))


def _entity(
    model: Model, pairs: list[tuple[Reading, Attribute]], zone_names: Mapping[str, str]
) -> dict[str, Any]:
    first = pairs[0][0]
    kind = model.type_of(first)
    newest = max(r.observed_at for r, _ in pairs)
    entity: dict[str, Any] = {
        "id": entity_id(kind, first.source),
        "type": kind,
        "dateObserved": {"type": "Property", "value": {"@type": "DateTime", "@value": _utc_text(newest)}},
    }
    located = next((r for r, _ in pairs if r.lat is not None and r.lon is not None), None)
    if located is not None:
        entity["location"] = {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [located.lon, located.lat]},
        }
    if first.zone:
        entity["areaServed"] = {"type": "Property", "value": zone_names.get(first.zone, first.zone)}
    for reading, attribute in pairs:
        prop: dict[str, Any] = {"type": "Property", "value": attribute.value}
        if attribute.unit_code:
            prop["unitCode"] = attribute.unit_code
        prop["observedAt"] = _utc_text(reading.observed_at)
        entity[attribute.name] = prop
    entity["@context"] = [model.context, CORE_CONTEXT]
    return entity


CSV_COLUMNS = (
    "date_observed",
    "entity_id",
    "entity_type",
    "attribute",
    "value",
    "unit_code",
    "zone",
    "latitude",
    "longitude",
)


def daily_csv(domain: str, readings: Iterable[Reading], day: date, tz: tzinfo) -> str:
    """Every published measurement of ``day`` (a local day in ``tz``), one row each, in time order."""
    model = MODELS[domain]
    rows: dict[tuple[str, str, str], list[str]] = {}
    for reading in readings:
        if reading.domain.value != domain or reading.observed_at.astimezone(tz).date() != day:
            continue
        attribute = model.mapper(reading)
        if attribute is None:
            continue
        kind = model.type_of(reading)
        when = _utc_text(reading.observed_at)
        # A reading handled twice (a replay, a re-sent batch) is one measurement.
        rows[(when, reading.source, reading.metric)] = [
            when,
            entity_id(kind, reading.source),
            kind,
            attribute.name,
            _csv_value(attribute.value),
            attribute.unit_code or "",
            reading.zone or "",
            "" if reading.lat is None else repr(reading.lat),
            "" if reading.lon is None else repr(reading.lon),
        ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for key in sorted(rows):
        writer.writerow(rows[key])
    return out.getvalue()


def _csv_value(value: float | str) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value
