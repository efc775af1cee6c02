"""The device codecs reproduce the vendors' published examples byte for byte."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from adapters.errors import AdapterError
from adapters.lorawan.decoders import decode

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lorawan"
CODECS = {
    "milesight-em310-udl": "lorawan_fill_level_milesight_em310udl_codec.yaml",
    "dingtek-df703": "lorawan_fill_level_dingtek_df703_codec.yaml",
    "milesight-ws558": "lorawan_streetlight_milesight_ws558_codec.yaml",
}


def vectors() -> list[Any]:
    out = []
    for decoder, name in CODECS.items():
        doc = yaml.safe_load((FIXTURES / name).read_text())
        for example in doc["uplinkDecoder"]["examples"]:
            out.append(
                pytest.param(
                    decoder,
                    example["input"]["fPort"],
                    bytes(example["input"]["bytes"]),
                    example["output"]["data"],
                    id=f"{decoder}: {example['description']}",
                )
            )
    return out


@pytest.mark.parametrize(("decoder", "f_port", "payload", "expected"), vectors())
def test_codec_example(decoder: str, f_port: int, payload: bytes, expected: dict[str, Any]) -> None:
    got = decode(decoder, f_port, payload)
    # Dingtek's JavaScript float reader divides the mantissa by 0x7fffff instead of 2**23, so its
    # examples are off by ~1e-5 degree (under a metre); we decode true IEEE-754 and allow that.
    for key in ("longitude", "latitude"):
        if key in expected:
            assert float(got.pop(key)) == pytest.approx(float(expected.pop(key)), abs=1e-5)
    assert got == expected


def test_every_codec_has_examples() -> None:
    assert {v.values[0] for v in vectors()} == set(CODECS)


@pytest.mark.parametrize(
    ("decoder", "payload", "reason"),
    [
        (
            "milesight-em310-udl",
            bytes([0x01, 0x75, 0x5C, 0x03, 0x82, 0x44]),
            "frame ends before channel 0x03",
        ),
        ("dingtek-df703", bytes([0x80, 0, 1, 1, 0x05, 0x81]), "says 5 bytes but has 6"),
        ("dingtek-df703", bytes([0x7F, 0, 1, 1, 0x05]), "starts with 0x80"),
        ("dingtek-df703", bytes([0x80, 0, 1, 9, 0x06, 0x81]), "unknown DF703 frame type 0x09"),
        ("no-such-codec", b"\x00", "unknown decoder 'no-such-codec'"),
    ],
)
def test_malformed_frames_are_refused_with_a_reason(decoder: str, payload: bytes, reason: str) -> None:
    with pytest.raises(AdapterError, match=reason):
        decode(decoder, 85, payload)


def test_em310_stops_at_an_unknown_channel_like_the_vendor_codec() -> None:
    assert decode("milesight-em310-udl", 85, bytes([0x01, 0x75, 0x40, 0x09, 0x99, 0x01])) == {"battery": 64}


def test_df703_alarm_bits_and_negative_angle() -> None:
    frame = bytearray([0x80, 0, 1, 2, 0x11, 0x00, 0x96, 0, 0x30, 1, 12, 0x11, 0x01, 0, 7, 0, 0x81])
    assert decode("dingtek-df703", 3, bytes(frame)) == {
        "level": 150,
        "alarmLevel": True,
        "alarmFire": True,
        "alarmFall": False,
        "alarmBattery": True,
        "angle": -12,
        "temperature": 48,
        "frameCounter": 7,
    }
