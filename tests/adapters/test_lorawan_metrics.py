"""Uplinks become FIWARE-named readings placed by the device registry entry."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters import chirpstack, ttn
from adapters.errors import AdapterError
from adapters.lorawan.device import DeviceEntry
from adapters.lorawan.metrics import filling_level, readings_for

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lorawan"
RECEIVED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def chirpstack_up(payload: bytes, **extra: object) -> bytes:
    doc = json.loads((FIXTURES / "chirpstack_v4_up.json").read_text())
    doc["data"] = base64.b64encode(payload).decode()
    doc.update(extra)
    return json.dumps(doc).encode()


def bin_sensor(decoder: str = "milesight-em310-udl", **options: float) -> DeviceEntry:
    return DeviceEntry(
        dev_eui="0101010101010101",
        source="waste:bin:rennes-042",
        domain="waste",
        zone="rennes-centre",
        lat=48.111,
        lon=-1.68,
        decoder=decoder,
        options={"bin_depth_mm": 2500, **options},
    )


def by_metric(readings) -> dict[str, object]:
    return {r.metric: r.value for r in readings}


def test_em310_frame_gives_filling_level_from_the_registry_depth() -> None:
    up = chirpstack.parse_up(
        chirpstack_up(bytes([0x01, 0x75, 0x5C, 0x03, 0x82, 0x44, 0x08, 0x04, 0x00, 0x01]))
    )
    readings = readings_for(up, bin_sensor(), received_at=RECEIVED)
    values = by_metric(readings)
    assert values["distance"] == 2116.0
    assert values["fillingLevel"] == pytest.approx((2500 - 2116) / 2500)
    assert values["batteryLevel"] == 0.92
    assert values["status"] == "lidOpen"
    assert values["rssi"] == -36.0
    first = readings[0]
    assert (first.source, first.domain.value, first.zone, first.lat) == (
        "waste:bin:rennes-042",
        "waste",
        "rennes-centre",
        48.111,
    )
    assert first.observed_at == up.observed_at
    assert first.attrs["devEui"] == "0101010101010101"


def test_full_distance_offset_makes_a_near_reading_a_full_bin() -> None:
    assert filling_level(300, {"bin_depth_mm": 1300, "full_distance_mm": 300}) == 1.0
    assert filling_level(800, {"bin_depth_mm": 1300, "full_distance_mm": 300}) == 0.5
    assert filling_level(5000, {"bin_depth_mm": 1300}) == 0.0
    assert filling_level(800, {}) is None


def test_df703_fire_alarm_gives_burning_status_and_alarm_metrics() -> None:
    frame = bytes([0x80, 0, 1, 2, 0x11, 0x01, 0xF4, 0, 0x41, 0, 0, 0x01, 0x00, 0, 3, 0, 0x81])
    up = chirpstack.parse_up(chirpstack_up(frame))
    values = by_metric(readings_for(up, bin_sensor("dingtek-df703"), received_at=RECEIVED))
    assert values["status"] == "burning"
    assert values["alarmFire"] == 1.0
    assert values["alarmLevel"] == 0.0
    assert values["fillingLevel"] == pytest.approx(0.8)
    assert values["temperature"] == 65.0


def test_df703_parameter_frame_gives_no_measurement() -> None:
    frame = bytes([0x80, 0, 1, 3, 0x19, 1, 4, 0x18, 1, 0x1E, 0x4B, 0x1E, *([0] * 12), 0x81])
    values = by_metric(
        readings_for(
            chirpstack.parse_up(chirpstack_up(frame)), bin_sensor("dingtek-df703"), received_at=RECEIVED
        )
    )
    assert set(values) == {"rssi", "snr"}


def test_ws558_streetlight_controller_gives_power_state_and_energy() -> None:
    frame = bytes(
        [
            0x03,
            0x74,
            0xB2,
            0x08,
            0x04,
            0x80,
            0x46,
            0,
            0,
            0,
            0x05,
            0x81,
            0x5F,
            0x06,
            0x83,
            0x10,
            0x27,
            0,
            0,
            0x07,
            0xC9,
            0x2C,
            0x01,
            0x08,
            0x31,
            0x01,
            0x01,
        ]
    )
    light = DeviceEntry(
        dev_eui="0101010101010101", source="lighting:cabinet:12", domain="lighting", decoder="milesight-ws558"
    )
    values = by_metric(readings_for(chirpstack.parse_up(chirpstack_up(frame)), light, received_at=RECEIVED))
    assert values["voltage"] == 222.6
    assert values["activePower"] == 70.0
    assert values["powerFactor"] == 0.95
    assert values["energyConsumed"] == 10.0
    assert values["current"] == 0.3
    assert values["powerState"] == "on"


def test_network_decoded_object_wins_and_unknown_numbers_pass_through() -> None:
    up = ttn.parse_uplink((FIXTURES / "ttn_v3_uplink_message.json").read_bytes())
    device = DeviceEntry(dev_eui="0004A30B001C0530", source="lighting:uno:1", domain="lighting")
    readings = readings_for(up, device, received_at=RECEIVED)
    values = by_metric(readings)
    assert values["temperature"] == 1.0
    assert values["luminosity"] == 0.64
    assert readings[0].observed_at == datetime(2020, 2, 12, 15, 15, 45, 787000, tzinfo=UTC)


def test_chirpstack_sample_for_a_registered_device_gives_link_readings() -> None:
    up = chirpstack.parse_up((FIXTURES / "chirpstack_v4_up.json").read_bytes())
    values = by_metric(readings_for(up, bin_sensor(), received_at=RECEIVED))
    assert values == {"rssi": -36.0, "snr": 10.5}


def test_reception_time_is_used_when_the_network_gives_none() -> None:
    doc = json.loads(chirpstack_up(b""))
    del doc["time"]
    readings = readings_for(chirpstack.parse_up(json.dumps(doc)), bin_sensor(), received_at=RECEIVED)
    assert {r.observed_at for r in readings} == {RECEIVED}


def test_decoder_errors_surface_as_adapter_errors() -> None:
    up = chirpstack.parse_up(chirpstack_up(bytes([0x80, 0, 1, 1, 0x03])))
    with pytest.raises(AdapterError, match="0x81"):
        readings_for(up, bin_sensor("dingtek-df703"), received_at=RECEIVED)


@pytest.mark.parametrize(
    "bad",
    [
        {"dev_eui": "xyz"},
        {"decoder": "acme-9000"},
        {"options": {"bin_depth_mm": -1}},
        {"options": {"bin_depth_mm": 100, "full_distance_mm": 200}},
        {"domain": "weather"},
    ],
)
def test_registry_entries_are_validated(bad: dict[str, object]) -> None:
    entry = {"dev_eui": "0101010101010101", "source": "waste:bin:1", "domain": "waste", **bad}
    with pytest.raises(ValidationError):
        DeviceEntry.model_validate(entry)
