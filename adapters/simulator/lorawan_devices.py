"""Simulated LoRaWAN devices: the demo's registry, frame encoders and network-server envelopes (pure).

Encoders are the exact inverse of `adapters.lorawan.decoders`, so the demo exercises the real decoders.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from adapters.lorawan.device import DeviceEntry
from adapters.simulator.world import ZONES

_ZONE = {z.id: z for z in ZONES}


def _entry(dev_eui: str, source: str, domain: str, zone: str, decoder: str, **options: Any) -> DeviceEntry:
    z = _ZONE[zone]
    return DeviceEntry(
        dev_eui=dev_eui,
        source=source,
        domain=domain,
        zone=zone,
        lat=z.lat,
        lon=z.lon,
        decoder=decoder,
        options=options,
    )


DEMO_DEVICES: tuple[DeviceEntry, ...] = (
    _entry(
        "24e124128c140062",
        "waste:bin:PORT-12",
        "waste",
        "port-fluvial",
        "milesight-em310-udl",
        bin_depth_mm=1300,
        full_distance_mm=250,
    ),
    _entry(
        "24e124128c140063",
        "waste:bin:CENTRE-03",
        "waste",
        "valmont-centre",
        "milesight-em310-udl",
        bin_depth_mm=1300,
        full_distance_mm=250,
    ),
    _entry(
        "d703000000000101", "waste:bin:NORD-07", "waste", "valmont-nord", "dingtek-df703", bin_depth_mm=1600
    ),
    _entry(
        "24e124558c000001", "lighting:controller:TILLEULS-01", "lighting", "les-tilleuls", "milesight-ws558"
    ),
)


def encode_em310_udl(distance_mm: int, battery_pct: int, *, tilt: bool = False) -> bytes:
    return (
        bytes([0x01, 0x75, battery_pct, 0x03, 0x82])
        + distance_mm.to_bytes(2, "little")
        + bytes([0x04, 0x00, tilt])
    )


def encode_df703(
    level_mm: int,
    temperature: int,
    *,
    frame_counter: int,
    full: bool = False,
    fire: bool = False,
    fall: bool = False,
    low_battery: bool = False,
    angle: int = 0,
) -> bytes:
    body = bytearray([0x80, 0x00, 0x01, 0x02 if (full or fire or fall) else 0x01, 17])
    body += level_mm.to_bytes(2, "big")
    body += bytes([0x00, temperature & 0xFF, 1 if angle < 0 else 0, abs(angle)])
    body += bytes([(full << 4) | fire, (fall << 4) | low_battery])
    body += frame_counter.to_bytes(2, "big") + bytes([0x00, 0x81])
    return bytes(body)


def encode_ws558(
    *, voltage_v: float, power_w: int, power_factor_pct: int, energy_wh: int, current_ma: int, switches: int
) -> bytes:
    return (
        bytes([0x03, 0x74])
        + round(voltage_v * 10).to_bytes(2, "little")
        + bytes([0x04, 0x80])
        + power_w.to_bytes(4, "little")
        + bytes([0x05, 0x81, power_factor_pct])
        + bytes([0x06, 0x83])
        + energy_wh.to_bytes(4, "little")
        + bytes([0x07, 0xC9])
        + current_ma.to_bytes(2, "little")
        + bytes([0x08, 0x31, 0xFF, switches & 0xFF])
    )


def _jitter(dev_eui: str, n: int) -> float:
    return int.from_bytes(hashlib.sha256(f"{dev_eui}:{n}".encode()).digest()[:2], "big") / 65535


def frame_for(entry: DeviceEntry, *, elapsed: timedelta, night: bool, scenario: str, f_cnt: int) -> bytes:
    """The next frame: bins fill during the demo (one burns in `covid-wave`); lights follow the night."""
    minutes = elapsed.total_seconds() / 60
    noise = _jitter(entry.dev_eui, f_cnt)
    if entry.decoder == "milesight-em310-udl":
        fill = min(1.0, 0.2 + minutes / 30 + 0.05 * noise)
        depth, full = int(entry.options["bin_depth_mm"]), int(entry.options["full_distance_mm"])
        return encode_em310_udl(round(depth - fill * (depth - full)), 90 - f_cnt // 100 % 60)
    if entry.decoder == "dingtek-df703":
        fill = min(1.0, 0.4 + minutes / 20)
        fire = scenario == "covid-wave" and minutes > 5  # a vivid, rare event for the demo
        level = round(int(entry.options["bin_depth_mm"]) * (1 - fill))
        return encode_df703(
            level, 60 if fire else 14 + round(4 * noise), frame_counter=f_cnt, full=fill > 0.9, fire=fire
        )
    if entry.decoder == "milesight-ws558":
        failed = scenario == "lighting-cabinet-failure" and minutes > 2
        on = night and not failed
        return encode_ws558(
            voltage_v=229.5 + noise,
            power_w=round(640 + 40 * noise) if on else 0,
            power_factor_pct=95,
            energy_wh=1_250_000 + f_cnt * 160,
            current_ma=2900 if on else 0,
            switches=0b1111 if on else 0,
        )
    raise ValueError(f"no simulated frames for decoder {entry.decoder!r}")


def chirpstack_up(
    entry: DeviceEntry, payload: bytes, *, at: datetime, f_cnt: int, f_port: int = 85
) -> dict[str, Any]:
    """A ChirpStack v4 `up` event as its HTTP and MQTT integrations send it (no codec: `object` absent)."""
    return {
        "deduplicationId": str(uuid.uuid5(uuid.NAMESPACE_OID, f"{entry.dev_eui}:{f_cnt}")),
        "time": at.isoformat(),
        "deviceInfo": {
            "tenantName": "Valmont Métropole",
            "applicationId": "valmont-sensors",
            "applicationName": "Capteurs",
            "deviceName": entry.source,
            "devEui": entry.dev_eui,
        },
        "fCnt": f_cnt,
        "fPort": f_port,
        "data": base64.b64encode(payload).decode(),
        "rxInfo": [
            {
                "gatewayId": "0016c001f153a14c",
                "rssi": -70 - round(30 * _jitter(entry.dev_eui, -f_cnt)),
                "snr": 7.5,
            }
        ],
    }


def ttn_uplink(
    entry: DeviceEntry, payload: bytes, *, at: datetime, f_cnt: int, f_port: int = 85
) -> dict[str, Any]:
    """The Things Stack uplink message for the same frame."""
    stamp = at.isoformat()
    return {
        "end_device_ids": {
            "device_id": entry.source.replace(":", "-").lower(),
            "dev_eui": entry.dev_eui.upper(),
            "application_ids": {"application_id": "valmont-sensors"},
        },
        "received_at": stamp,
        "uplink_message": {
            "f_port": f_port,
            "f_cnt": f_cnt,
            "frm_payload": base64.b64encode(payload).decode(),
            "rx_metadata": [{"gateway_ids": {"gateway_id": "valmont-gw-1"}, "rssi": -81, "snr": 6.0}],
            "settings": {"time": stamp},
            "received_at": stamp,
        },
    }


def mqtt_topic(entry: DeviceEntry, application_id: str = "valmont-sensors") -> str:
    return f"application/{application_id}/device/{entry.dev_eui}/event/up"


__all__ = [
    "DEMO_DEVICES",
    "chirpstack_up",
    "encode_df703",
    "encode_em310_udl",
    "encode_ws558",
    "frame_for",
    "mqtt_topic",
    "ttn_uplink",
]
