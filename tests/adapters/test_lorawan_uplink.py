"""ChirpStack and The Things Stack envelopes read into one Uplink shape, and broken bodies named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters import chirpstack, ttn
from adapters.errors import AdapterError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lorawan"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_chirpstack_up_sample_gives_dev_eui_time_port_and_bytes() -> None:
    up = chirpstack.parse_up(fixture("chirpstack_v4_up.json"))
    assert up.network == "chirpstack"
    assert up.dev_eui == "0101010101010101"
    assert up.observed_at == datetime(2022, 7, 18, 9, 34, 15, 775023, tzinfo=UTC)
    assert up.f_port == 1
    assert up.payload == b"\xaa"
    assert up.decoded is None
    assert (up.rssi, up.snr) == (-36.0, 10.5)


def test_chirpstack_object_is_kept_when_a_codec_ran() -> None:
    doc = json.loads(fixture("chirpstack_v4_up.json"))
    doc["object"] = {"distance": 1200, "battery": 80}
    up = chirpstack.parse_up(json.dumps(doc))
    assert up.decoded == {"distance": 1200, "battery": 80}


def test_ttn_sample_gives_lower_case_dev_eui_and_decoded_payload() -> None:
    up = ttn.parse_uplink(fixture("ttn_v3_uplink_message.json"))
    assert up.network == "ttn"
    assert up.dev_eui == "0004a30b001c0530"
    # The gateway's time wins over the stack's reception time.
    assert up.observed_at == datetime(2020, 2, 12, 15, 15, 45, 787000, tzinfo=UTC)
    assert up.payload == bytes([0x82, 0x41, 0xDE])
    assert up.decoded == {"temperature": 1.0, "luminosity": 0.64}
    assert up.f_cnt == 1
    assert up.rssi == -35.0


def test_upstream_ttn_example_with_its_missing_comma_is_rejected_naming_the_position() -> None:
    body = fixture("ttn_v3_uplink_message_upstream_broken.json")
    with pytest.raises(AdapterError) as caught:
        ttn.parse_uplink(body)
    broken_at = body.index(b'"received_at" : "2020-02-12T15:15:45.789585559Z"')
    message = str(caught.value)
    assert "Expecting ',' delimiter" in message
    assert "line 79 column 5" in message
    assert f"position {broken_at}" in message


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["deviceInfo"].update(devEui="not-hex"), "deviceInfo.devEui"),
        (lambda d: d.update(data="%%%"), "data"),
        (lambda d: d.update(time="yesterday"), "time"),
        (lambda d: d.update(fPort="1"), "fPort"),
        (lambda d: d.pop("deviceInfo"), "deviceInfo"),
    ],
)
def test_chirpstack_bad_fields_are_named(mutate, field: str) -> None:
    doc = json.loads(fixture("chirpstack_v4_up.json"))
    mutate(doc)
    with pytest.raises(AdapterError) as caught:
        chirpstack.parse_up(json.dumps(doc))
    assert caught.value.field == field


def test_ttn_non_uplink_event_is_refused() -> None:
    doc = json.loads(fixture("ttn_v3_uplink_message.json"))
    del doc["uplink_message"]
    with pytest.raises(AdapterError, match="not an uplink message"):
        ttn.parse_uplink(json.dumps(doc))


def test_missing_time_is_none_so_the_caller_uses_reception_time() -> None:
    doc = json.loads(fixture("chirpstack_v4_up.json"))
    del doc["time"]
    assert chirpstack.parse_up(json.dumps(doc)).observed_at is None
