"""Device codecs from raw frame bytes, giving the same keys as the vendors' published JavaScript codecs."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from adapters.errors import AdapterError

Decoded = dict[str, Any]
Decoder = Callable[[int | None, bytes], Decoded]


def _need(payload: bytes, end: int, what: str) -> None:
    if len(payload) < end:
        raise AdapterError(f"frame ends before {what} (byte {end - 1} of {len(payload)})", field="payload")


def _milesight_channels(
    payload: bytes, channels: dict[tuple[int, int], tuple[int, Callable[[bytes], Decoded]]]
) -> Decoded:
    """Milesight frames are a run of (channel id, channel type, value) items; unknown items end it.

    Stopping at an unknown item mirrors the vendor codec: later firmware adds items we cannot size.
    """
    decoded: Decoded = {}
    i = 0
    while i + 1 < len(payload):
        spec = channels.get((payload[i], payload[i + 1]))
        if spec is None:
            break
        size, read = spec
        _need(payload, i + 2 + size, f"channel 0x{payload[i]:02x} type 0x{payload[i + 1]:02x}")
        decoded.update(read(payload[i + 2 : i + 2 + size]))
        i += 2 + size
    return decoded


def _u16le(raw: bytes) -> int:
    return int.from_bytes(raw[:2], "little")


def _u32le(raw: bytes) -> int:
    return int.from_bytes(raw[:4], "little")


_EM310_UDL: dict[tuple[int, int], tuple[int, Callable[[bytes], Decoded]]] = {
    (0x01, 0x75): (1, lambda raw: {"battery": raw[0]}),
    (0x03, 0x82): (2, lambda raw: {"distance": _u16le(raw)}),
    (0x04, 0x00): (1, lambda raw: {"tilt": "tilt" if raw[0] == 1 else "normal"}),
    (0xFF, 0x01): (1, lambda raw: {"ipso_version": f"v{raw[0] >> 4}.{raw[0] & 0x0F}"}),
    (0xFF, 0x0B): (1, lambda raw: {"device_status": "on"}),
}


def milesight_em310_udl(f_port: int | None, payload: bytes) -> Decoded:
    """Milesight EM310-UDL ultrasonic distance sensor: battery %, distance mm, tilt."""
    return _milesight_channels(payload, _EM310_UDL)


def _ws558_switches(raw: bytes) -> Decoded:
    # First byte flags which switches changed; the second holds the eight states.
    return {f"switch_{n + 1}": "on" if (raw[1] >> n) & 1 else "off" for n in range(8)}


_WS558: dict[tuple[int, int], tuple[int, Callable[[bytes], Decoded]]] = {
    (0x03, 0x74): (2, lambda raw: {"voltage": _u16le(raw) / 10}),
    (0x04, 0x80): (4, lambda raw: {"power": _u32le(raw)}),
    (0x05, 0x81): (1, lambda raw: {"power_factor": raw[0]}),
    (0x06, 0x83): (4, lambda raw: {"power_consumption": _u32le(raw)}),
    (0x07, 0xC9): (2, lambda raw: {"total_current": _u16le(raw)}),
    (0x08, 0x31): (2, _ws558_switches),
}


def milesight_ws558(f_port: int | None, payload: bytes) -> Decoded:
    """Milesight WS558 smart light controller: voltage V, power W, factor %, energy Wh, current mA, relays."""
    return _milesight_channels(payload, _WS558)


def _df703_measure(payload: bytes, gps: bool) -> Decoded:
    decoded: Decoded = {"level": int.from_bytes(payload[5:7], "big")}
    at = 8
    if gps:
        # Longitude then latitude, IEEE-754 single precision, least significant byte first.
        lon, lat = struct.unpack("<ff", payload[8:16])
        decoded["longitude"] = f"{lon:.6f}"
        decoded["latitude"] = f"{lat:.6f}"
        at = 16
    sign = -1 if payload[at + 1] else 1
    alarms, more = payload[at + 3], payload[at + 4]
    decoded.update(
        alarmLevel=bool(alarms >> 4),
        alarmFire=bool(alarms & 0x0F),
        alarmFall=bool(more >> 4),
        alarmBattery=bool(more & 0x0F),
        angle=sign * payload[at + 2],
        temperature=payload[at],
        frameCounter=int.from_bytes(payload[at + 5 : at + 7], "big"),
    )
    return decoded


def _df703_parameters(payload: bytes) -> Decoded:
    return {
        "firmware": f"{payload[5]}.{payload[6]}",
        "uploadInterval": payload[7],
        "detectInterval": payload[8],
        "levelThreshold": payload[9],
        "fireThreshold": payload[10],
        "fallThreshold": payload[11],
        "fallEnable": bool(payload[12]),
        "workMode": payload[13],
    }


def dingtek_df703(f_port: int | None, payload: bytes) -> Decoded:
    """Dingtek DF703 bin sensor: 0x80 … 0x81 frames, byte 3 the type, byte 4 the frame length."""
    if len(payload) < 5 or payload[0] != 0x80 or payload[-1] != 0x81:
        raise AdapterError("a DF703 frame starts with 0x80 and ends with 0x81", field="payload")
    if payload[4] != len(payload):
        raise AdapterError(f"DF703 frame says {payload[4]} bytes but has {len(payload)}", field="payload")
    kind = payload[3]
    if kind == 0x03:
        _need(payload, 14, "the parameters")
        return _df703_parameters(payload)
    if kind in (0x01, 0x02):
        gps = len(payload) >= 25 and payload[7] == 0x01
        _need(payload, 24 if gps else 16, "the measurement")
        return _df703_measure(payload, gps)
    raise AdapterError(f"unknown DF703 frame type 0x{kind:02x}", field="payload")


DECODERS: dict[str, Decoder] = {
    "milesight-em310-udl": milesight_em310_udl,
    "milesight-ws558": milesight_ws558,
    "dingtek-df703": dingtek_df703,
}


def decode(name: str, f_port: int | None, payload: bytes) -> Decoded:
    """Run the named codec; an unknown name is a registry mistake, reported as such."""
    try:
        decoder = DECODERS[name]
    except KeyError as err:
        raise AdapterError(f"unknown decoder {name!r} (known: {', '.join(sorted(DECODERS))})") from err
    return decoder(f_port, payload)
