"""ChirpStack v4 integration events (HTTP `?event=up` body or MQTT `.../event/up` message) → Uplink."""

from __future__ import annotations

from typing import Any

from adapters.errors import AdapterError
from adapters.lorawan.uplink import (
    Uplink,
    best_signal,
    dev_eui,
    load_json,
    optional_int,
    payload_bytes,
    require_object,
    timestamp,
)

# ChirpStack's HTTP integration names the event in the query string; only `up` carries measurements.
UPLINK_EVENT = "up"


def parse_up(body: bytes | str) -> Uplink:
    """Read one ChirpStack v4 `up` event; `object` is the decoded payload when a codec is configured."""
    return uplink_from(load_json(body))


def uplink_from(doc: Any) -> Uplink:
    event = require_object(doc, where="$")
    info = require_object(event.get("deviceInfo"), where="deviceInfo")
    decoded = event.get("object")
    if decoded is not None and not isinstance(decoded, dict):
        raise AdapterError("must be a JSON object when present", field="object")
    rssi, snr = best_signal(event.get("rxInfo"))
    name = info.get("deviceName")
    return Uplink(
        network="chirpstack",
        dev_eui=dev_eui(info.get("devEui"), where="deviceInfo.devEui"),
        observed_at=timestamp(event.get("time"), where="time"),
        f_port=optional_int(event.get("fPort"), where="fPort"),
        f_cnt=optional_int(event.get("fCnt"), where="fCnt"),
        payload=payload_bytes(event.get("data"), where="data"),
        decoded=decoded or None,
        rssi=rssi,
        snr=snr,
        device_name=name if isinstance(name, str) else None,
    )
