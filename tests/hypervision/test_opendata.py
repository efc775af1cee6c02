"""Open data: NGSI-LD entities that round-trip through the adapters' own FIWARE parsers, the daily CSV,
and the public routes (licence, no token, nothing personal) on a live app."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import pytest

from adapters import fiware_air, fiware_lighting, fiware_pollen, fiware_waste
from adapters.simulator.world import ZONES, world_readings
from adapters.source import SourceConfig
from hypervision import bus, opendata
from hypervision.config import Settings
from hypervision.domain import Reading
from hypervision.models.user import Role
from tests.support import LiveServer, eventually, reading

FIXTURES = Path(__file__).parents[1] / "fixtures"
RECEIVED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
PARSERS = {"air": fiware_air, "pollen": fiware_pollen, "lighting": fiware_lighting, "waste": fiware_waste}
LICENCE = "Licence Ouverte / Open Licence 2.0"


def _key(r: Reading) -> tuple[Any, ...]:
    return (r.metric, r.value, r.unit, r.observed_at.timestamp(), r.lat, r.lon)


def _roundtrip(domain: str, readings: list[Reading]) -> tuple[list[dict[str, Any]], list[Reading]]:
    """Export, serialize as the API does, and read back with the domain's FIWARE parser."""
    entities = opendata.entities(domain, readings, {})
    payload = orjson.dumps(entities)
    back = PARSERS[domain].parse(payload, received_at=RECEIVED, source=SourceConfig(id="od", kind="x"))
    return entities, back


@pytest.mark.parametrize(
    ("domain", "fixture"),
    [
        ("air", "air/fiware_AirQualityObserved_normalized.jsonld"),
        ("air", "air/fiware_AirQualityObserved_keyvalues.json"),
        ("pollen", "pollen/fiware_AeroAllergenObserved_normalized.jsonld"),
        ("lighting", "lighting/fiware_Streetlight_normalized.jsonld"),
        ("lighting", "lighting/fiware_Streetlight_keyvalues.json"),
        ("lighting", "lighting/fiware_StreetlightGroup_normalized.jsonld"),
        ("lighting", "lighting/fiware_StreetlightControlCabinet_normalized.jsonld"),
        ("waste", "waste/fiware_WasteContainer_normalized_2021_fillingLevel.jsonld"),
        ("waste", "waste/fiware_WasteContainer_keyvalues_2021_fillingLevel.json"),
    ],
)
def test_a_recorded_feed_survives_export_and_the_adapters_parser(domain: str, fixture: str) -> None:
    parser = PARSERS[domain]
    source = SourceConfig(id=f"{domain}:feed", kind="x", zone="valmont-centre")
    readings = parser.parse((FIXTURES / fixture).read_bytes(), received_at=RECEIVED, source=source)
    assert readings
    entities, back = _roundtrip(domain, readings)
    assert len(entities) == 1
    entity = entities[0]
    assert entity["@context"][-1] == opendata.CORE_CONTEXT
    assert entity["id"] == f"urn:ngsi-ld:{entity['type']}:{domain}:feed"
    assert all(
        v["type"] in ("Property", "GeoProperty")
        for k, v in entity.items()
        if k not in ("id", "type", "@context")
    )
    # Same measurements, same units, same instants, same places; only the source id gains the feed's prefix.
    assert sorted(map(_key, back)) == sorted(map(_key, readings))
    assert {r.source for r in back} == {f"od/{domain}:feed"}


def _r(metric: str, value: float | str, unit: str = "", **kw: Any) -> Reading:
    base: dict[str, Any] = {
        "source": "sensor:1",
        "domain": "air",
        "metric": metric,
        "value": value,
        "unit": unit,
        "observed_at": datetime(2026, 11, 30, 8, 0, tzinfo=UTC),
        "zone": "valmont-centre",
        "lat": 47.32,
        "lon": 5.04,
    }
    base.update(kw)
    return Reading(**base)


def test_simulated_readings_take_their_model_names_and_units() -> None:
    readings = [
        _r("pm10", 63.2, "µg/m³"),
        _r("co", 0.4, "mg/m³"),
        _r("no2", 40.0, "ppb"),  # no model unit: left out rather than mislabelled
        _r("atmoIndex", 4.0, source="air:atmo:21999"),
        _r("atmoIndex", 4.0, source="both"),
        _r("airQualityIndex", 61.0, "index", source="both"),  # the model's own name wins over the alias
        _r("allergenRisk", 4.0, domain="pollen", source="rnsa"),
        _r("pollenIndex", 6.0, domain="pollen", source="atmo"),
        _r("allergenRisk", 2.5, domain="pollen", source="odd"),  # not a level of any scale
        _r("fillingLevel", 85.0, "%", domain="waste", source="bin"),
        _r("visitors", 30.0, "1/h", domain="waste", source="centre"),  # no WasteContainer attribute
        _r("powerState", "on", domain="lighting", source="lamp"),
    ]
    air = {e["id"]: e for e in opendata.entities("air", readings, {"valmont-centre": "Valmont Centre"})}
    station = air["urn:ngsi-ld:AirQualityObserved:sensor:1"]
    assert station["pm10"] == {
        "type": "Property",
        "value": 63.2,
        "unitCode": "GQ",
        "observedAt": "2026-11-30T08:00:00Z",
    }
    assert station["co"]["unitCode"] == "GP"
    assert "no2" not in station
    assert station["areaServed"]["value"] == "Valmont Centre"
    assert station["location"]["value"]["coordinates"] == [5.04, 47.32]
    assert air["urn:ngsi-ld:AirQualityObserved:air:atmo:21999"]["airQualityIndex"]["value"] == 4.0
    assert air["urn:ngsi-ld:AirQualityObserved:both"]["airQualityIndex"]["value"] == 61.0
    pollen = {e["id"]: e for e in opendata.entities("pollen", readings, {})}
    assert pollen["urn:ngsi-ld:AeroAllergenObserved:rnsa"]["allergenRisk"]["value"] == "high"
    assert pollen["urn:ngsi-ld:AeroAllergenObserved:atmo"]["allergenRisk"]["value"] == "veryHigh"
    assert "urn:ngsi-ld:AeroAllergenObserved:odd" not in pollen
    waste = opendata.entities("waste", readings, {})
    assert [e["id"] for e in waste] == ["urn:ngsi-ld:WasteContainer:bin"]
    assert waste[0]["fillingLevel"]["value"] == 0.85
    back = fiware_pollen.parse(orjson.dumps(list(pollen.values())), received_at=RECEIVED)
    assert sorted(r.value for r in back if r.metric == "allergenRisk") == ["high", "veryHigh"]


def test_the_simulated_territory_publishes_each_family_and_reads_back() -> None:
    night = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)  # lamps on
    world = world_readings(night, scenario="pollen-peak", started_at=night - timedelta(hours=6))
    zones = {z.id: z.name for z in ZONES}
    published: dict[str, list[str]] = {}
    for domain, parser in PARSERS.items():
        entities = opendata.entities(domain, world, zones)
        published[domain] = [e["id"] for e in entities]
        back = parser.parse(orjson.dumps(entities), received_at=RECEIVED)
        assert {(r.source.removeprefix(f"{parser.KIND}/"), r.observed_at) for r in back} == {
            (e["id"].split(":", 3)[3], night) for e in entities
        }
    assert published == {
        "air": [
            "urn:ngsi-ld:AirQualityObserved:air:atmo:21999",
            "urn:ngsi-ld:AirQualityObserved:air:station:FR-VAL-01",
            "urn:ngsi-ld:AirQualityObserved:air:station:FR-VAL-02",
        ],
        "pollen": ["urn:ngsi-ld:AeroAllergenObserved:pollen:station:VAL"],
        "lighting": [
            "urn:ngsi-ld:Streetlight:lighting:cabinet:C-CENTRE",
            "urn:ngsi-ld:Streetlight:lighting:cabinet:C-TILLEULS",
        ],
        "waste": ["urn:ngsi-ld:WasteContainer:waste:container:WC-PORT-07"],  # the waste centre has no model
    }
    pollen = opendata.entities("pollen", world, zones)[0]
    assert pollen["allergenRisk"]["value"] in ("high", "veryHigh")  # six hours into a pollen peak
    assert pollen["areaServed"]["value"] == "Valmont Nord"


def test_free_attributes_never_leave_the_room() -> None:
    secret = _r("pm10", 63.2, "µg/m³", attrs={"operator_phone": "0612345678", "note": "Mme Durand"})
    text = orjson.dumps(opendata.entities("air", [secret], {})).decode()
    text += opendata.daily_csv("air", [secret], date(2026, 11, 30), PARIS)
    assert "0612345678" not in text and "Durand" not in text
    assert set(opendata.MODELS) == {"air", "pollen", "lighting", "waste"}


def test_the_daily_csv_holds_the_local_day_once_per_measurement() -> None:
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    readings = [
        _r("pm10", 20.0, "µg/m³", observed_at=at),
        _r("pm10", 20.0, "µg/m³", observed_at=at),  # the same measurement handled twice
        _r("pm10", 35.5, "µg/m³", observed_at=at + timedelta(hours=1)),
        _r("pm10", 99.0, "µg/m³", observed_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC)),  # 1 Dec in Paris
        _r("pm10", 98.0, "µg/m³", observed_at=datetime(2026, 11, 29, 23, 30, tzinfo=UTC)),  # 30 Nov in Paris
        _r("callersWaiting", 12.0, domain="call_line"),
    ]
    rows = list(csv.DictReader(io.StringIO(opendata.daily_csv("air", readings, date(2026, 11, 30), PARIS))))
    assert [(r["date_observed"], r["value"]) for r in rows] == [
        ("2026-11-29T23:30:00Z", "98"),
        ("2026-11-30T08:00:00Z", "20"),
        ("2026-11-30T09:00:00Z", "35.5"),
    ]
    assert rows[0]["entity_id"] == "urn:ngsi-ld:AirQualityObserved:sensor:1"
    assert rows[0]["attribute"] == "pm10" and rows[0]["unit_code"] == "GQ"
    assert rows[0]["zone"] == "valmont-centre" and rows[0]["latitude"] == "47.32"


# -- the public routes on a live app ---------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"opendata_licence": LICENCE + " (test)"})


async def test_the_public_export_reads_back_with_the_fiware_parsers(live: LiveServer, make_token) -> None:
    feeder = make_token(Role.ADMIN)
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.isoformat()

    def now_reading(source: str, domain: str, metric: str, value: float, **kw: Any) -> dict[str, Any]:
        return reading(source=source, domain=domain, metric=metric, value=value, observed_at=stamp, **kw)

    station = {"lat": 47.32, "lon": 5.04, "unit": "µg/m³"}
    posted = [
        now_reading("air:station:FR-VAL-01", "air", "pm10", 42.5, **station),
        now_reading("air:station:FR-VAL-01", "air", "o3", 80.0, **station),
        now_reading("pollen:station:VAL", "pollen", "allergenRisk", 3.0, unit=""),
        now_reading("waste:container:WC-PORT-07", "waste", "fillingLevel", 0.7, unit=""),
        now_reading("call_line:queue:allo-mairie", "call_line", "callersWaiting", 3.0, unit=""),
    ]
    async with live.client(feeder) as http:
        assert (await http.post("/api/ingest/readings", json=posted)).status_code == 202

    async def picture_complete() -> bool:
        return int(await live.runtime.redis.hlen(bus.PICTURE_KEY)) == len(posted)

    await eventually(picture_complete)

    async with live.client() as http:  # no token: open data is public
        index = await http.get("/api/opendata")
        assert index.status_code == 200
        assert index.json()["licence"]["name"] == LICENCE + " (test)"
        air = await http.get("/api/opendata/air")
        assert air.status_code == 200
        assert air.headers["content-type"] == "application/ld+json"
        assert 'rel="license"' in air.headers["link"] and LICENCE + " (test)" in air.headers["link"]
        back = fiware_air.parse(air.content, received_at=RECEIVED)
        assert sorted((r.metric, r.value, r.unit, r.observed_at) for r in back) == [
            ("o3", 80.0, "µg/m³", now),
            ("pm10", 42.5, "µg/m³", now),
        ]
        pollen = fiware_pollen.parse((await http.get("/api/opendata/pollen")).content, received_at=RECEIVED)
        assert [(r.metric, r.value) for r in pollen] == [
            ("allergenRisk", "moderate"),
            ("allergenRiskLevel", 2.0),
        ]
        waste = fiware_waste.parse((await http.get("/api/opendata/waste")).content, received_at=RECEIVED)
        assert [(r.metric, r.value) for r in waste] == [("fillingLevel", 0.7)]
        assert (await http.get("/api/opendata/call_line")).status_code == 404
        assert (await http.get("/api/opendata/call_line.csv")).status_code == 404

        today = now.astimezone(PARIS).date()
        day = await http.get("/api/opendata/air.csv", params={"date": today.isoformat()})
        assert day.status_code == 200
        assert day.headers["content-type"].startswith("text/csv")
        assert f'filename="air-{today.isoformat()}.csv"' in day.headers["content-disposition"]
        assert 'rel="license"' in day.headers["link"]
        rows = list(csv.DictReader(io.StringIO(day.text)))
        assert sorted((r["attribute"], r["value"]) for r in rows) == [("o3", "80"), ("pm10", "42.5")]
        default = await http.get("/api/opendata/air.csv")
        assert default.text == day.text
        before = await http.get(
            "/api/opendata/air.csv", params={"date": (today - timedelta(days=3)).isoformat()}
        )
        assert before.text.strip() == ",".join(opendata.CSV_COLUMNS)
        assert (await http.get("/api/opendata/air.csv", params={"date": "yesterday"})).status_code == 422
