"""CAP 1.2 publishing: documents valid against the vendored OASIS XSD, chains linked by references,
the public feed, and the pollution-peak scenario through a live app with its worker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree
from sqlalchemy.engine import Engine as SqlEngine
from sqlmodel import Session, col, select

from adapters.simulator.world import ZONES
from alerts.engine import AlertChange, Engine, cap_action
from alerts.lifecycle import AlertEvent
from alerts.loader import DEFAULT_RULES, load_rules
from alerts.schema import Matcher
from hypervision import alert_store, cap, cap_store, silence_store
from hypervision.config import Settings
from hypervision.db import create_schema, make_engine, session_scope
from hypervision.domain import Reading
from hypervision.models.alert import Alert
from hypervision.models.cap_message import CapMessage
from hypervision.models.user import Role
from hypervision.zones import ZonesError, load_zones, parse_zones
from tests.support import LiveServer, eventually, reading

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cap"
RULES = FIXTURES / "pollution_rules.yaml"
XSD = etree.XMLSchema(etree.parse(str(FIXTURES / "cap12.xsd")))
NS = {"cap": cap.CAP_NS}
ATOM = {"a": cap.ATOM_NS}
PARIS = ZoneInfo("Europe/Paris")
SENDER = "hypervision@valmont.example"
OFFSET_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def valid(doc: bytes | str) -> etree._Element:
    """Parse and validate against the OASIS schema; fails the test with the validator's message."""
    root = etree.fromstring(doc.encode() if isinstance(doc, str) else doc)
    XSD.assertValid(root)
    return root


def texts(root: etree._Element, path: str) -> list[str]:
    return [el.text for el in root.findall(path, NS)]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"rules_files": [RULES]})


# -- the validator itself ------------------------------------------------------------------------


def test_the_validator_accepts_the_oasis_sample_and_refuses_a_time_without_offset() -> None:
    sample = (FIXTURES / "cap12_sample_amber.xml").read_bytes()
    valid(sample)
    broken = sample.replace(b"2003-06-11T22:39:00-07:00", b"2003-06-11T22:39:00Z")
    with pytest.raises(etree.DocumentInvalid):
        valid(broken)


# -- pure documents ------------------------------------------------------------------------------


def _message(msg_type: cap.MsgType, **overrides: object) -> cap.Message:
    zone = load_zones()["valmont-centre"]
    fields: dict[str, object] = {
        "identifier": "hv-20261130T080000Z-7-1",
        "sender": SENDER,
        "sent": datetime(2026, 11, 30, 8, 0, 5, 123456, tzinfo=UTC),
        "msg_type": msg_type,
        "category": "Env",
        "event": "Pic de pollution",
        "urgency": "Expected",
        "severity": "Moderate",
        "certainty": "Observed",
        "texts": (
            cap.InfoText("fr", "Pic de pollution", "PM10 : 63 µg/m³.", "Évitez les efforts."),
            cap.InfoText("en", "Pollution peak", "", "Avoid strenuous activity."),
        ),
        "area": cap.Area(zone.name, (zone.cap_polygon(),), (("INSEE", zone.insee),)),
        "sender_name": "Valmont Métropole",
    }
    fields.update(overrides)
    return cap.Message(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("msg_type", ["Alert", "Update", "Cancel"])
def test_every_message_type_is_a_valid_cap_document(msg_type: cap.MsgType) -> None:
    ref = cap.Reference(SENDER, "hv-20261130T080000Z-7-0", "2026-11-30T09:00:00+01:00")
    root = valid(cap.build_document(_message(msg_type, references=(ref,)), PARIS))
    assert texts(root, "cap:msgType") == [msg_type]
    assert texts(root, "cap:sent") == ["2026-11-30T09:00:05+01:00"]
    assert texts(root, "cap:references") == [f"{SENDER},hv-20261130T080000Z-7-0,2026-11-30T09:00:00+01:00"]
    assert texts(root, "cap:info/cap:language") == ["fr-FR", "en-GB"]
    assert texts(root, "cap:info/cap:area/cap:geocode/cap:valueName") == ["INSEE", "INSEE"]
    assert texts(root, "cap:info/cap:area/cap:geocode/cap:value") == ["21999", "21999"]
    polygon = texts(root, "cap:info/cap:area/cap:polygon")[0].split(" ")
    assert polygon[0] == polygon[-1] and len(polygon) >= 4
    lat, lon = (float(x) for x in polygon[0].split(","))
    assert 47.2 < lat < 47.4 and 4.9 < lon < 5.2  # lat first, as CAP wants
    headlines = texts(root, "cap:info/cap:headline")
    if msg_type == "Cancel":
        assert headlines == ["Fin d'alerte : Pic de pollution", "All clear: Pollution peak"]
        assert texts(root, "cap:info/cap:responseType") == ["AllClear", "AllClear"]
        assert texts(root, "cap:info/cap:instruction") == []
    else:
        assert headlines == ["Pic de pollution", "Pollution peak"]
        assert texts(root, "cap:info/cap:instruction") == ["Évitez les efforts.", "Avoid strenuous activity."]
    # an empty English description is left out rather than sent blank
    assert texts(root, "cap:info/cap:description") == ["PM10 : 63 µg/m³."]


def test_sent_carries_the_territory_offset_in_winter_and_in_summer() -> None:
    assert cap.cap_time(datetime(2026, 1, 15, 11, 0, tzinfo=UTC), PARIS) == "2026-01-15T12:00:00+01:00"
    assert cap.cap_time(datetime(2026, 7, 15, 11, 0, tzinfo=UTC), PARIS) == "2026-07-15T13:00:00+02:00"
    with pytest.raises(ValueError):
        cap.cap_time(datetime(2026, 7, 15, 11, 0), PARIS)


def test_an_identifier_or_sender_cap_forbids_is_refused() -> None:
    with pytest.raises(ValueError, match="identifier"):
        cap.build_document(_message("Alert", identifier="hv 1"), PARIS)
    with pytest.raises(ValueError, match="sender"):
        cap.build_document(_message("Alert", sender="a,b"), PARIS)


def test_a_long_headline_is_clipped_to_what_cap_recommends() -> None:
    long = cap.InfoText("fr", "x" * 400)
    root = valid(cap.build_document(_message("Alert", texts=(long,)), PARIS))
    assert len(texts(root, "cap:info/cap:headline")[0]) == cap.HEADLINE_MAX


def test_the_atom_index_links_each_message() -> None:
    entry = cap.FeedEntry("hv-1", "Alert", "2026-11-30T09:00:05+01:00", "Pic", "PM10", "http://h/a/hv-1.xml")
    root = etree.fromstring(
        cap.atom_feed([entry], feed_url="http://h/a", title="t", author="V", updated=entry.sent)
    )
    assert root.tag == f"{{{cap.ATOM_NS}}}feed"
    link = root.find("a:entry/a:link", ATOM)
    assert link is not None and link.get("href") == "http://h/a/hv-1.xml"
    assert link.get("type") == "application/cap+xml"


def test_every_public_rule_shipped_renders_a_valid_warning() -> None:
    shipped = [r for r in load_rules([DEFAULT_RULES]).rules if r.public]
    assert shipped, "the shipped rule set has public rules"
    context = {
        "value": 4.0,
        "unit": "",
        "source": "s",
        "zone": "valmont-centre",
        "observed_at": "30/11/2026 09:00",
    }
    for rule in shipped:
        assert rule.cap is not None  # the loader refuses a public rule without one
        for msg_type in ("Alert", "Update", "Cancel"):
            action = cap_action(rule.cap, msg_type, rule.severity, context)
            info = cap_store.info_of(action)
            message = _message(
                msg_type,
                category=info["category"],
                event=info["event"],
                urgency=info["urgency"],
                certainty=info["certainty"],
                severity=action.severity,
                texts=cap_store.texts_of(info),
            )
            valid(cap.build_document(message, PARIS))


# -- zones ---------------------------------------------------------------------------------------


def test_the_shipped_zones_are_the_simulated_territory_with_insee_codes() -> None:
    zones = load_zones()
    assert set(zones) == {z.id for z in ZONES}
    for world_zone in ZONES:
        zone = zones[world_zone.id]
        assert zone.insee == world_zone.insee
        assert zone.contains(world_zone.lat, world_zone.lon), zone.id
        others = [z for z in ZONES if z.id != zone.id]
        assert not any(zone.contains(o.lat, o.lon) for o in others), zone.id


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"type": "Feature"}, "FeatureCollection"),
        ({"type": "FeatureCollection", "features": [{"properties": {}}]}, r"features\[0\]\.properties\.id"),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "properties": {"id": "a", "name": "A", "insee": "21999"},
                        "geometry": {"type": "Polygon", "coordinates": [[[5, 47], [5.1, 47], [5, 47.1]]]},
                    }
                ],
            },
            "at least 4 positions",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [{"properties": {"id": "a", "name": "A", "insee": "219"}, "geometry": {}}],
            },
            "insee",
        ),
    ],
)
def test_a_bad_zones_file_is_refused_with_the_place(doc: object, message: str) -> None:
    with pytest.raises(ZonesError, match=message):
        parse_zones(doc)


# -- the move hook on a real database ------------------------------------------------------------


@pytest.fixture
def db(db_url: str) -> Iterator[SqlEngine]:
    engine = make_engine(db_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def _publisher() -> cap_store.Publisher:
    return cap_store.Publisher(sender=SENDER, sender_name="Valmont", tz=PARIS, zones=load_zones())


def _pm10(value: float, at: datetime, metric: str = "pm10") -> Reading:
    return Reading(
        source="air:station:FR-VAL-01",
        domain="air",
        metric=metric,
        value=value,
        unit="µg/m³",
        observed_at=at,
        zone="valmont-centre",
    )


def _step(
    db: SqlEngine, engine: Engine, value: float, at: datetime, cause: str, metric: str = "pm10"
) -> tuple[list[tuple[str, AlertChange]], list[tuple[str, str]]]:
    changes = [(cause, c) for c in engine.on_reading(_pm10(value, at, metric), at)]
    with session_scope(db) as session:
        moves = alert_store.apply_engine_changes(session, changes)
        published = cap_store.publish_moves(session, moves, at, _publisher())
        return changes, [(m.msg_type, m.identifier) for m in published]


def test_a_public_alert_publishes_alert_update_cancel_and_a_replay_adds_nothing(db: SqlEngine) -> None:
    engine = Engine(load_rules([RULES]))
    t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    _, first = _step(db, engine, 63.0, t0, "1-0")
    rise, second = _step(db, engine, 95.0, t0 + timedelta(minutes=10), "2-0")
    with session_scope(db) as session:  # the worker crashed after SQL: the same change comes again
        moves = alert_store.apply_engine_changes(session, rise)
        assert [m.event for m in moves] == [AlertEvent.UPDATE]  # updates re-apply by design...
        assert cap_store.publish_moves(session, moves, t0, _publisher()) == []  # ...but publish once
    _, third = _step(db, engine, 95.0, t0 + timedelta(minutes=20), "3-0")  # same level: nothing to say
    _, last = _step(db, engine, 30.0, t0 + timedelta(minutes=30), "4-0")
    assert [k for k, _ in first + second + third + last] == ["Alert", "Update", "Cancel"]

    with Session(db) as session:
        rows = session.exec(select(CapMessage).order_by(col(CapMessage.id))).all()
    assert [r.msg_type for r in rows] == ["Alert", "Update", "Cancel"]
    assert [r.severity for r in rows] == ["Moderate", "Severe", "Severe"]
    docs = [valid(r.xml) for r in rows]
    sent = [texts(d, "cap:sent")[0] for d in docs]
    assert sent == ["2026-11-30T09:00:00+01:00", "2026-11-30T09:10:00+01:00", "2026-11-30T09:30:00+01:00"]
    refs = [texts(d, "cap:references") for d in docs]
    assert refs[0] == []
    assert refs[1] == [f"{SENDER},{rows[0].identifier},{sent[0]}"]
    assert refs[2] == [f"{SENDER},{rows[0].identifier},{sent[0]} {SENDER},{rows[1].identifier},{sent[1]}"]
    assert len({r.identifier for r in rows}) == 3
    assert texts(docs[0], "cap:info/cap:description") == [
        "Concentration mesurée : 63 µg/m³.",
        "Measured concentration: 63 µg/m³.",
    ]


def test_a_manager_resolving_a_public_alert_cancels_its_warning(db: SqlEngine) -> None:
    engine = Engine(load_rules([RULES]))
    t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    _step(db, engine, 63.0, t0, "1-0")
    with session_scope(db) as session:
        alert = session.exec(select(Alert)).one()
        assert alert.id is not None
        move = alert_store.apply_manual(
            session, alert.id, AlertEvent.RESOLVE, actor="manager", comment="fin", now=t0 + timedelta(hours=1)
        )
        published = cap_store.publish_moves(session, [move], t0 + timedelta(hours=1), _publisher())
    assert [m.msg_type for m in published] == ["Cancel"]
    root = valid(published[0].xml)
    assert texts(root, "cap:sent") == ["2026-11-30T10:00:00+01:00"]
    assert texts(root, "cap:info/cap:headline")[0] == "Fin d'alerte : Pic de pollution aux particules PM10"


def test_a_silenced_public_alert_warns_nobody_until_the_silence_ends(db: SqlEngine) -> None:
    engine = Engine(load_rules([RULES]))
    t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    with session_scope(db) as session:
        silence_store.create(
            session,
            matchers=[Matcher(label="rule", value="air.pm10.peak")],
            duration=timedelta(minutes=15),
            reason="capteur en maintenance",
            actor="manager",
            now=t0,
        )
    _, first = _step(db, engine, 63.0, t0, "1-0")
    _, later = _step(db, engine, 95.0, t0 + timedelta(minutes=20), "2-0")
    # the room saw both moves; the public hears of the alert once the silence is over
    assert first == [] and [k for k, _ in later] == ["Alert"]


def test_a_rule_not_marked_public_publishes_nothing(db: SqlEngine) -> None:
    engine = Engine(load_rules([RULES]))
    t0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    changes, published = _step(db, engine, 450.0, t0, "1-0", metric="no2")
    assert [c.event for _, c in changes] == [AlertEvent.FIRE]
    assert published == []


def test_an_alert_outside_any_known_zone_covers_the_whole_territory() -> None:
    zones = load_zones()
    area = cap_store.area_for("nowhere", zones)
    assert area.desc == cap_store.WHOLE_TERRITORY
    assert sorted(v for _, v in area.geocodes) == sorted(z.insee for z in ZONES)
    assert len(area.polygons) == len(ZONES)


def test_a_broken_zones_file_still_lets_warnings_out(tmp_path: Path, settings: Settings) -> None:
    broken = tmp_path / "zones.geojson"
    broken.write_text("{not json", encoding="utf-8")
    publisher = cap_store.Publisher.from_settings(settings.model_copy(update={"zones_file": broken}))
    assert publisher.zones == {}
    area = cap_store.area_for("valmont-centre", publisher.zones)
    root = valid(cap.build_document(_message("Alert", area=area), PARIS))
    assert texts(root, "cap:info/cap:area/cap:areaDesc")[0] == cap_store.WHOLE_TERRITORY
    with pytest.raises(ZonesError, match="cannot read zones"):
        load_zones(broken)


# -- acceptance: the pollution-peak scenario through the live app ---------------------------------


async def test_pollution_peak_yields_valid_alert_update_cancel_on_the_public_feed(
    live: LiveServer, make_token
) -> None:
    feeder = make_token(Role.ADMIN)
    base = datetime.now(UTC).replace(microsecond=0)

    async def post(value: float, minutes: int, metric: str = "pm10") -> None:
        at = (base + timedelta(minutes=minutes)).isoformat()
        body = [reading(source="air:station:FR-VAL-01", metric=metric, value=value, observed_at=at)]
        async with live.client(feeder) as http:
            resp = await http.post("/api/ingest/readings", json=body)
            assert resp.status_code == 202, resp.text

    async def feed_entries(n: int) -> list[etree._Element]:
        async def ready() -> list[etree._Element] | None:
            async with live.client() as http:  # no token: the feed is public
                resp = await http.get("/api/cap/alerts")
            assert resp.status_code == 200, resp.text
            assert resp.headers["content-type"].startswith("application/atom+xml")
            entries = etree.fromstring(resp.content).findall("a:entry", ATOM)
            return entries if len(entries) >= n else None

        return await eventually(ready)

    await post(450.0, 0, metric="no2")  # a rule the public never sees
    await post(63.0, 1)
    await feed_entries(1)
    await post(95.0, 2)
    await feed_entries(2)
    await post(30.0, 3)
    entries = await feed_entries(3)

    async with live.client() as http:
        docs = []
        for entry in reversed(entries):  # the feed is newest first
            link = entry.find("a:link", ATOM)
            assert link is not None
            resp = await http.get(link.get("href"))
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "application/cap+xml"
            docs.append(valid(resp.content))
        missing = await http.get("/api/cap/alerts/hv-nope.xml")
        assert missing.status_code == 404

    assert [texts(d, "cap:msgType")[0] for d in docs] == ["Alert", "Update", "Cancel"]
    assert [texts(d, "cap:info/cap:severity")[0] for d in docs] == ["Moderate", "Severe", "Severe"]
    ids = [texts(d, "cap:identifier")[0] for d in docs]
    sent = [texts(d, "cap:sent")[0] for d in docs]
    assert all(OFFSET_TIME.match(s) for s in sent)
    sender = live.runtime.settings.cap_sender
    assert texts(docs[2], "cap:references") == [f"{sender},{ids[0]},{sent[0]} {sender},{ids[1]},{sent[1]}"]
    for doc in docs:
        assert texts(doc, "cap:info/cap:language") == ["fr-FR", "en-GB"]
        assert texts(doc, "cap:info/cap:area/cap:areaDesc")[0] == "Valmont Centre"
        assert texts(doc, "cap:info/cap:area/cap:geocode/cap:value")[0] == "21999"
        assert texts(doc, "cap:info/cap:area/cap:polygon")[0] == load_zones()["valmont-centre"].cap_polygon()
        assert "NO₂" not in etree.tostring(doc, encoding="unicode")  # nothing of the private alert

    with Session(live.runtime.db) as session:
        rules = {a.rule_id for a in session.exec(select(Alert)).all()}
        assert rules == {"air.pm10.peak", "air.no2.room-only"}  # the private one fired in the room
        assert {m.rule_id for m in session.exec(select(CapMessage)).all()} == {"air.pm10.peak"}
