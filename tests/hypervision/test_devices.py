"""The device registry on the real database: add, replace, list, look up, import YAML with located errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session

from adapters.lorawan.device import DeviceEntry
from hypervision import devices
from hypervision.db import create_schema, make_engine, session_scope

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

YAML = """
devices:
  - dev_eui: 24E124128C140062
    source: waste:bin:rennes-042
    domain: waste
    zone: rennes-centre
    lat: 48.1113
    lon: -1.6800
    decoder: milesight-em310-udl
    options: {bin_depth_mm: 1300, full_distance_mm: 250}
  - dev_eui: 0004a30b001c0530
    source: lighting:cabinet:ssf-01
    domain: lighting
    decoder: milesight-ws558
"""


@pytest.fixture
def db(db_url: str):
    engine = make_engine(db_url)
    create_schema(engine)
    yield engine
    engine.dispose()


def entry(**fields) -> DeviceEntry:
    return DeviceEntry.model_validate(
        {"dev_eui": "0101010101010101", "source": "waste:bin:1", "domain": "waste", **fields}
    )


def test_add_list_and_lookup_in_any_case(db) -> None:
    with session_scope(db) as session:
        assert devices.add_device(
            session, entry(decoder="dingtek-df703", options={"bin_depth_mm": 900}), now=NOW
        )
    found = devices.lookup(db, "0101010101010101".upper())
    assert found is not None
    assert (found.source, found.decoder, found.options) == (
        "waste:bin:1",
        "dingtek-df703",
        {"bin_depth_mm": 900},
    )
    with Session(db) as session:
        assert [d.dev_eui for d in devices.list_devices(session)] == ["0101010101010101"]
    assert devices.lookup(db, "ffffffffffffffff") is None


def test_a_second_add_is_refused_unless_replacing(db) -> None:
    with session_scope(db) as session:
        devices.add_device(session, entry(), now=NOW)
    with pytest.raises(devices.DeviceError, match="already registered"), session_scope(db) as session:
        devices.add_device(session, entry(source="waste:bin:2"), now=NOW)
    with session_scope(db) as session:
        assert devices.add_device(session, entry(source="waste:bin:2"), now=NOW, replace=True) is False
    assert devices.lookup(db, "0101010101010101").source == "waste:bin:2"


def test_yaml_import_adds_then_updates(db) -> None:
    with session_scope(db) as session:
        assert devices.import_yaml(session, YAML, now=NOW) == devices.ImportResult(added=2, updated=0)
    with session_scope(db) as session:
        assert devices.import_yaml(session, YAML.replace("1300", "1400"), now=NOW) == devices.ImportResult(
            0, 2
        )
    bin_ = devices.lookup(db, "24e124128c140062")
    assert bin_.options["bin_depth_mm"] == 1400
    assert (bin_.lat, bin_.zone) == (48.1113, "rennes-centre")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (YAML.replace("milesight-ws558", "acme-9000"), "devices[1].decoder"),
        (YAML.replace("domain: waste", "domain: weather"), "devices[0].domain"),
        (
            YAML.replace("0004a30b001c0530", "24e124128c140062"),
            "devices[1].dev_eui: 24e124128c140062 is also devices[0]",
        ),
        ("devices: [a, b", "invalid YAML at line 1"),
        ("just: a mapping", "must hold a list of devices"),
    ],
)
def test_a_bad_file_names_the_entry_and_changes_nothing(db, text: str, message: str) -> None:
    with pytest.raises(devices.DeviceError) as caught, session_scope(db) as session:
        devices.import_yaml(session, text, now=NOW)
    assert message in str(caught.value)
    with Session(db) as session:
        assert devices.list_devices(session) == []
