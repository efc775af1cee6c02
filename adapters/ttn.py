"""The Things Stack v3 webhook / MQTT uplink message → Uplink."""

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


def parse_uplink(body: bytes | str) -> Uplink:
    """Read one `uplink_message` webhook body; `decoded_payload` is present when a formatter ran."""
    return uplink_from(load_json(body))


def uplink_from(doc: Any) -> Uplink:
    message = require_object(doc, where="$")
    ids = require_object(message.get("end_device_ids"), where="end_device_ids")
    if "uplink_message" not in message:
        raise AdapterError("not an uplink message (join, ack and location events carry no data)")
    up = require_object(message.get("uplink_message"), where="uplink_message")
    decoded = up.get("decoded_payload")
    if decoded is not None and not isinstance(decoded, dict):
        raise AdapterError("must be a JSON object when present", field="uplink_message.decoded_payload")
    # The gateway's reception time is the closest to the measurement; the stack's own time is next.
    settings = up.get("settings")
    observed = None
    for where, value in (
        ("uplink_message.settings.time", settings.get("time") if isinstance(settings, dict) else None),
        ("uplink_message.received_at", up.get("received_at")),
        ("received_at", message.get("received_at")),
    ):
        observed = timestamp(value, where=where)
        if observed is not None:
            break
    rssi, snr = best_signal(up.get("rx_metadata"))
    name = ids.get("device_id")
    return Uplink(
        network="ttn",
        dev_eui=dev_eui(ids.get("dev_eui"), where="end_device_ids.dev_eui"),
        observed_at=observed,
        f_port=optional_int(up.get("f_port"), where="uplink_message.f_port"),
        f_cnt=optional_int(up.get("f_cnt"), where="uplink_message.f_cnt"),
        payload=payload_bytes(up.get("frm_payload"), where="uplink_message.frm_payload"),
        decoded=decoded or None,
        rssi=rssi,
        snr=snr,
        device_name=name if isinstance(name, str) else None,
    )
