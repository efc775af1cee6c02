"""The simulated devices' frames and envelopes go through the real parsers and decoders."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from adapters import chirpstack, ttn
from adapters.lorawan.decoders import decode
from adapters.lorawan.metrics import readings_for
from adapters.simulator.lorawan_devices import (
    DEMO_DEVICES,
    chirpstack_up,
    encode_df703,
    encode_em310_udl,
    encode_ws558,
    frame_for,
)

AT = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)


def test_encoders_are_the_inverse_of_the_decoders() -> None:
    assert decode("milesight-em310-udl", 85, encode_em310_udl(1234, 77, tilt=True)) == {
        "battery": 77,
        "distance": 1234,
        "tilt": "tilt",
    }
    df = decode("dingtek-df703", 3, encode_df703(321, 58, frame_counter=9, fire=True, angle=-20))
    assert (
        df["level"],
        df["temperature"],
        df["alarmFire"],
        df["alarmLevel"],
        df["angle"],
        df["frameCounter"],
    ) == (
        321,
        58,
        True,
        False,
        -20,
        9,
    )
    ws = decode(
        "milesight-ws558",
        85,
        encode_ws558(
            voltage_v=230.1, power_w=640, power_factor_pct=95, energy_wh=5000, current_ma=2900, switches=0b101
        ),
    )
    assert (ws["voltage"], ws["power"], ws["switch_1"], ws["switch_2"], ws["switch_3"]) == (
        230.1,
        640,
        "on",
        "off",
        "on",
    )


@pytest.mark.parametrize("scenario", ["normal-day", "covid-wave", "lighting-cabinet-failure"])
def test_every_demo_device_gives_readings_through_both_envelopes(scenario: str) -> None:
    for f_cnt, minutes in ((1, 0), (40, 10)):
        for device in DEMO_DEVICES:
            payload = frame_for(
                device, elapsed=timedelta(minutes=minutes), night=True, scenario=scenario, f_cnt=f_cnt
            )
            up = chirpstack.parse_up(json.dumps(chirpstack_up(device, payload, at=AT, f_cnt=f_cnt)))
            values = {r.metric: r.value for r in readings_for(up, device, received_at=AT)}
            if device.domain.value == "waste":
                assert 0.0 <= values["fillingLevel"] <= 1.0
            else:
                on = scenario != "lighting-cabinet-failure" or minutes <= 2
                assert values["powerState"] == ("on" if on else "off")
            assert up.dev_eui == device.dev_eui


def test_bins_fill_up_and_one_burns_in_the_covid_wave() -> None:
    df703 = next(d for d in DEMO_DEVICES if d.decoder == "dingtek-df703")

    def values(minutes: int, scenario: str) -> dict[str, object]:
        payload = frame_for(
            df703, elapsed=timedelta(minutes=minutes), night=False, scenario=scenario, f_cnt=3
        )
        up = ttn.uplink_from(
            {
                "end_device_ids": {"dev_eui": df703.dev_eui.upper()},
                "uplink_message": {"frm_payload": base64.b64encode(payload).decode(), "f_port": 3},
            }
        )
        return {r.metric: r.value for r in readings_for(up, df703, received_at=AT)}

    assert values(0, "normal-day")["fillingLevel"] < values(10, "normal-day")["fillingLevel"]
    assert values(10, "normal-day")["status"] == "ok"
    assert values(10, "covid-wave")["status"] == "burning"
