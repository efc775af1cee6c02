"""The simulated territory's pulled feeds in their real formats, and the sources file that reads them.

``render_feeds`` turns the world's values (``adapters.simulator.world``) into the bodies a format
server serves at each path; ``demo_sources`` is the matching source configuration, so the demo
polls the simulator through the real fetch, parsers and coordinator. Pure: time is an argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from adapters.render import air, hospital, lighting, pollen, stock, waste
from adapters.simulator.world import SOURCES, TZ, Source, metric_value
from adapters.source import SourceConfig

JSON, GEOJSON, LD_JSON, CSV = "application/json", "application/geo+json", "application/ld+json", "text/csv"
OPENAQ_LOCATION = 9001
DEPARTMENT = "21"
LAMPS_PER_CABINET = 6
CENTRE_OSM_ID = "node/9001"
CENTRE_HOURS = "Mo-Sa 09:00-12:00,13:00-17:00"  # the world's opening rule, in OSM syntax
# regulatory episode thresholds (information, alert) in µg/m³ (arrêté of 26 March 2014)
EPISODE_THRESHOLDS = {"pm10": (50, 80), "no2": (200, 400), "o3": (180, 240), "so2": (300, 500)}
RNSA_TO_FIWARE = ("none", "low", "low", "moderate", "high", "veryHigh")
# feeds whose observations change slower than the demo polls: how long until they are stale
SLOW_FEEDS = {
    "atmo_indice": 26 * 3600,
    "atmo_pollen": 26 * 3600,
    "sivic": 26 * 3600,
    "openmeteo_pollen": 2 * 3600,
}
GRAINS_TO_INDEX = ((0, 1), (10, 2), (30, 3), (80, 4), (150, 5), (300, 6))  # grains/m³ lower bound -> index


@dataclass(frozen=True)
class Feed:
    content_type: str
    body: bytes


def _source(source_id: str) -> Source:
    return next(s for s in SOURCES if s.id == source_id)


class _World:
    """The world's values at one instant under one scenario."""

    def __init__(self, now: datetime, scenario: str, started_at: datetime | None) -> None:
        self.now = now
        self.scenario = scenario
        self.started_at = started_at or now
        self.local = now.astimezone(TZ).replace(microsecond=0)

    def value(self, source_id: str, metric: str, at: datetime | None = None) -> Any:
        when = at or self.now
        return metric_value(_source(source_id), metric, when, self.scenario, when - self.started_at)

    def number(self, source_id: str, metric: str, at: datetime | None = None) -> float:
        return float(self.value(source_id, metric, at))


def _air(w: _World, feeds: dict[str, Feed]) -> None:
    centre = _source("air:station:FR-VAL-01")
    values = {m: w.number(centre.id, m) for m in centre.metrics}
    latest, location = air.openaq(
        OPENAQ_LOCATION, "Valmont Centre", round(centre.lat, 5), round(centre.lon, 5), values, w.local
    )
    base = f"/openaq/v3/locations/{OPENAQ_LOCATION}"
    feeds[base] = Feed(JSON, location)
    feeds[f"{base}/latest"] = Feed(JSON, latest)
    port = _source("air:station:FR-VAL-02")
    port_values = {m: w.number(port.id, m) for m in port.metrics}
    feeds["/fiware/air/FR-VAL-02"] = Feed(
        LD_JSON, air.fiware_air("FR-VAL-02", port_values, w.local, round(port.lat, 5), round(port.lon, 5))
    )
    atmo = _source("air:atmo:21999")
    code = int(w.number(atmo.id, "atmoIndex"))
    today = w.local.date()
    indices = [
        air.AtmoIndex(
            atmo.zone.insee,
            atmo.zone.name,
            today,
            code,
            {"no2": code, "pm10": code},
            atmo.zone.lat,
            atmo.zone.lon,
        ),
        air.AtmoIndex(atmo.zone.insee, atmo.zone.name, today + timedelta(days=1), code),
    ]
    feeds["/atmo/indice.geojson"] = Feed(GEOJSON, air.atmo_indice(indices, published=w.local))
    episodes = []
    for pollutant, (inform, alert) in EPISODE_THRESHOLDS.items():
        worst = max(values.get(pollutant, 0.0), port_values.get(pollutant, 0.0))
        level = 2 if worst >= alert else 1 if worst >= inform else 0
        episodes.append(air.Episode(DEPARTMENT, "Valmont (département)", w.local, pollutant, level))
    feeds["/atmo/episodes.geojson"] = Feed(GEOJSON, air.atmo_episode(episodes, published=w.local))


def _grains_index(grains: float) -> int:
    return max(index for bound, index in GRAINS_TO_INDEX if grains >= bound)


def _pollen(w: _World, feeds: dict[str, Feed]) -> None:
    station = _source("pollen:station:VAL")
    midnight = w.local.replace(hour=0, minute=0, second=0)
    hours = [midnight + timedelta(hours=h) for h in range(48)]  # today and tomorrow, as the API forecasts
    hourly = {
        f"{taxon}_pollen": [w.number(station.id, metric, at) for at in hours]
        for taxon, metric in (("birch", "pollenBirch"), ("grass", "pollenGrass"))
    }
    feeds["/openmeteo/air-quality"] = Feed(
        JSON, pollen.openmeteo(round(station.lat, 5), round(station.lon, 5), "Europe/Paris", midnight, hourly)
    )
    rnsa = int(w.number(station.id, "allergenRisk"))
    feeds["/fiware/pollen/VAL"] = Feed(
        LD_JSON,
        pollen.aero_allergen(
            "VAL", RNSA_TO_FIWARE[min(rnsa, 5)], w.local, round(station.lat, 5), round(station.lon, 5)
        ),
    )
    birch, grass = w.number(station.id, "pollenBirch"), w.number(station.id, "pollenGrass")
    taxa = {
        "code_boul": _grains_index(birch),
        "code_gram": _grains_index(grass),
        "code_aul": 1,
        "code_ambr": 0,
    }
    item = pollen.AtmoPollen(
        station.zone.insee,
        station.zone.name,
        w.local.date(),
        min(6, max(1, rnsa + 1)),
        taxa,
        "BOULEAU" if birch >= grass else "GRAMINEE",
        station.zone.lat,
        station.zone.lon,
    )
    feeds["/atmo/pollen.geojson"] = Feed(GEOJSON, pollen.atmo_pollen([item], published=w.local))


def _lighting(w: _World, feeds: dict[str, Feed]) -> None:
    entities = []
    for cabinet_id in ("lighting:cabinet:C-CENTRE", "lighting:cabinet:C-TILLEULS"):
        cabinet = _source(cabinet_id)
        name = cabinet_id.rsplit(":", 1)[1]
        state = str(w.value(cabinet_id, "powerState"))
        power = w.number(cabinet_id, "activePower")
        failures = int(w.number(cabinet_id, "lampFailure"))
        phase_amps = round(power / 230 / 3, 2)
        entities.append(lighting.streetlight_group(name, state, w.local, area=cabinet.zone.name))
        entities.append(
            lighting.control_cabinet(
                name,
                round(power / 1000 * 4000, 1),
                (phase_amps,) * 3,
                "automatic",
                w.local,
                round(cabinet.lat, 5),
                round(cabinet.lon, 5),
            )
        )
        gateway = f"talq://gw-{name.lower()}"
        entries = []
        lit = [i >= failures and state == "on" for i in range(LAMPS_PER_CABINET)]
        per_lamp = round(power / max(sum(lit), 1), 1) if any(lit) else 0.0
        for i, on in enumerate(lit):
            lamp = f"{gateway}/lamp/{i + 1:02d}"
            entries += [
                lighting.TalqEntry(f"{lamp}/monitor", w.local, "lampFailure", i < failures),
                lighting.TalqEntry(f"{lamp}/monitor", w.local, "activePower", per_lamp if on else 0.0),
                lighting.TalqEntry(f"{lamp}/actuator", w.local, "actualLightState", 100.0 if on else 0.0),
            ]
        feeds[f"/talq/{name}/log"] = Feed(JSON, lighting.talq_log(f"{gateway}/logger/1", entries))
    feeds["/fiware/lighting"] = Feed(LD_JSON, lighting.entities(entities))


def _waste(w: _World, feeds: dict[str, Feed]) -> None:
    centre = _source("waste:centre:DECH-NORD")
    osm = waste.Centre(
        CENTRE_OSM_ID, "Déchetterie Nord", CENTRE_HOURS, round(centre.lat, 5), round(centre.lon, 5)
    )
    feeds["/osm/recycling-centres.geojson"] = Feed(GEOJSON, waste.overpass_centres([osm], generated=w.local))
    queue = int(w.number(centre.id, "queueLength"))
    counter = waste.Counter(
        "DECH-NORD",
        "Déchetterie Nord",
        w.local,
        visitors_last_hour=int(w.number(centre.id, "visitorsLastHour")),
        vehicles_on_site=min(queue, 12),
        capacity=12,
        queue_length=queue,
        queue_wait_min=float(queue * 2),
    )
    feeds["/waste/counters.json"] = Feed(JSON, waste.counters([counter], generated=w.local))
    bin_ = _source("waste:container:WC-PORT-07")
    level = min(1.0, max(0.0, w.number(bin_.id, "fillingLevel")))
    feeds["/fiware/waste/WC-PORT-07"] = Feed(
        JSON,
        waste.waste_container("WC-PORT-07", level, "ok", w.local, round(bin_.lat, 5), round(bin_.lon, 5)),
    )


def _mask_drive(w: _World, feeds: dict[str, Feed]) -> None:
    sites = []
    for source_id, name in (
        ("mask_drive:site:HOTEL-DE-VILLE", "Hôtel de ville"),
        ("mask_drive:site:GYMNASE-SUD", "Gymnase Sud"),
    ):
        on_hand = int(w.number(source_id, "stockOnHand"))
        sites.append(
            stock.SiteFigures(
                source_id.rsplit(":", 1)[1],
                name,
                w.local,
                on_hand,
                w.number(source_id, "distributedPerHour"),
                on_hand // 20,
                w.number(source_id, "queueWait"),
                w.number(source_id, "daysOfCover"),
            )
        )
    feeds["/stock/summary.json"] = Feed(JSON, stock.stock_json(sites))
    feeds["/stock/upload.csv"] = Feed(CSV, stock.stock_csv(sites))


def _hospital(w: _World, feeds: dict[str, Feed]) -> None:
    site = "hospital:site:CHU-VALMONT"
    beds, icu = 1200, 80
    counts: dict[str, int | None] = {
        "numTotBeds": 1300,
        "numbeds": beds,
        "numBedsOcc": round(beds * min(w.number(site, "bedOccupancy"), 100) / 100),
        "numICUBeds": icu,
        "numICUBedsOcc": round(icu * min(w.number(site, "icuOccupancy"), 100) / 100),
    }
    feeds["/fhir/MeasureReport/CHU-VALMONT"] = Feed(
        "application/fhir+json",
        hospital.measure_report("chu-valmont", "CHU-VALMONT", "CHU de Valmont", w.local, counts),
    )
    days = []
    for back in (2, 1, 0):
        at = w.now - timedelta(days=back)
        day: date = at.astimezone(TZ).date()
        days.append(
            hospital.SivicDay(
                DEPARTMENT,
                day,
                int(w.number(site, "hospitalized", at)),
                int(w.number(site, "intensiveCare", at)),
                900 + 10 * (2 - back),
                40 + (2 - back),
            )
        )
    feeds["/sivic/donnees-hospitalieres-covid19.csv"] = Feed(CSV, hospital.sivic(days))


def render_feeds(
    now: datetime, *, scenario: str = "normal-day", started_at: datetime | None = None
) -> dict[str, Feed]:
    """Every pulled feed of the simulated territory at ``now``: path -> (content type, body)."""
    world = _World(now, scenario, started_at)
    feeds: dict[str, Feed] = {}
    for family in (_air, _pollen, _lighting, _waste, _mask_drive, _hospital):
        family(world, feeds)
    return feeds


def demo_sources(base_url: str, *, interval_s: float = 30.0) -> list[SourceConfig]:
    """The sources file of the demo: every feed above, labelled with the world's zones."""
    base = base_url.rstrip("/")
    zones = {z.insee: z.id for z in {s.zone for s in SOURCES}}

    def src(ident: str, kind: str, path: str, zone: str | None = None, **options: Any) -> SourceConfig:
        stale_after = max(3, math.ceil(SLOW_FEEDS.get(kind, 0) / interval_s))
        return SourceConfig(
            id=ident,
            kind=kind,
            url=f"{base}{path}",
            interval_s=interval_s,
            timeout_s=5,
            stale_after=stale_after,
            zone=zone,
            options=options,
        )

    return [
        src("air:station:FR-VAL-01", "openaq", f"/openaq/v3/locations/{OPENAQ_LOCATION}", "valmont-centre"),
        src("air:station:FR-VAL-02", "fiware_air", "/fiware/air/FR-VAL-02", "port-fluvial"),
        src("air:atmo", "atmo_indice", "/atmo/indice.geojson", zones=zones),
        src("air:episodes", "atmo_episode", "/atmo/episodes.geojson", "valmont-centre"),
        src("pollen:openmeteo:VAL", "openmeteo_pollen", "/openmeteo/air-quality", "valmont-nord"),
        src("pollen:fiware:VAL", "fiware_pollen", "/fiware/pollen/VAL", "valmont-nord"),
        src("pollen:atmo", "atmo_pollen", "/atmo/pollen.geojson", zones=zones),
        src(
            "lighting:fiware",
            "fiware_lighting",
            "/fiware/lighting",
            zones={"C-CENTRE": "valmont-centre", "C-TILLEULS": "les-tilleuls"},
        ),
        src("lighting:talq:C-CENTRE", "talq", "/talq/C-CENTRE/log", "valmont-centre"),
        src("lighting:talq:C-TILLEULS", "talq", "/talq/C-TILLEULS/log", "les-tilleuls"),
        src(
            "waste:centres",
            "waste_centre",
            "/osm/recycling-centres.geojson",
            zones={CENTRE_OSM_ID: "valmont-nord"},
        ),
        src("waste:counters", "waste_counter", "/waste/counters.json", zones={"DECH-NORD": "valmont-nord"}),
        src("waste:container:WC-PORT-07", "fiware_waste", "/fiware/waste/WC-PORT-07", "port-fluvial"),
        src(
            "mask_drive:stock",
            "stock_json",
            "/stock/summary.json",
            zones={"HOTEL-DE-VILLE": "valmont-centre", "GYMNASE-SUD": "valmont-sud"},
        ),
        src("hospital:fhir:CHU-VALMONT", "fhir_beds", "/fhir/MeasureReport/CHU-VALMONT", "valmont-sud"),
        src(
            "hospital:sivic",
            "sivic",
            "/sivic/donnees-hospitalieres-covid19.csv",
            departments=[DEPARTMENT],
            zones={DEPARTMENT: "valmont-sud"},
        ),
    ]
