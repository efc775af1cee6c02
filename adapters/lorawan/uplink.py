"""One decoded LoRaWAN uplink frame, independent of the network server that delivered it."""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.errors import AdapterError

_DEV_EUI_RE = re.compile(r"^[0-9a-fA-F]{16}$")


@dataclass(frozen=True)
class Uplink:
    """What every network server tells us about one uplink, in one shape."""

    network: str
    dev_eui: str
    observed_at: datetime | None
    f_port: int | None
    f_cnt: int | None
    payload: bytes
    decoded: dict[str, Any] | None
    rssi: float | None = None
    snr: float | None = None
    device_name: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def load_json(body: bytes | str) -> Any:
    """Parse a JSON body, naming line, column and position when it is broken."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as err:
        raise AdapterError(f"body is not UTF-8 ({err.reason})", field=f"position {err.start}") from err
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise AdapterError(
            f"invalid JSON: {err.msg}",
            field=f"line {err.lineno} column {err.colno} (position {err.pos})",
        ) from err
    except RecursionError as err:
        raise AdapterError("invalid JSON: nested too deeply") from err


def dev_eui(value: Any, *, where: str) -> str:
    """A DevEUI as 16 lower-case hex digits (ChirpStack writes lower case, TTN upper case)."""
    if not isinstance(value, str) or not _DEV_EUI_RE.match(value):
        raise AdapterError("a DevEUI must be 16 hexadecimal digits", field=where)
    return value.lower()


def timestamp(value: Any, *, where: str) -> datetime | None:
    """An RFC 3339 time; network servers write nanoseconds, which Python truncates to microseconds."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise AdapterError("a time must be an RFC 3339 string", field=where)
    text = value.replace("Z", "+00:00") if value.endswith("Z") else value
    # fromisoformat accepts at most 6 fractional digits before 3.12: cut the nanoseconds off.
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as err:
        raise AdapterError(f"unreadable time {value!r}", field=where) from err
    if parsed.tzinfo is None:
        raise AdapterError(f"time {value!r} has no time zone", field=where)
    return parsed


def payload_bytes(value: Any, *, where: str) -> bytes:
    """The frame payload from its base64 text (absent on empty frames such as a bare ack)."""
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise AdapterError("the payload must be base64 text", field=where)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise AdapterError("the payload is not valid base64", field=where) from err


def optional_int(value: Any, *, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise AdapterError("must be an integer", field=where)
    return value


def optional_number(value: Any) -> float | None:
    """A finite number, or None (booleans, text, NaN, infinities and giant integers are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def require_object(value: Any, *, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise AdapterError("must be a JSON object", field=where)
    return value


def best_signal(gateways: Any) -> tuple[float | None, float | None]:
    """RSSI and SNR of the gateway that heard the frame best (the link the device relies on)."""
    best: tuple[float | None, float | None] = (None, None)
    if not isinstance(gateways, list):
        return best
    for gw in gateways:
        if not isinstance(gw, dict):
            continue
        rssi = optional_number(gw.get("rssi"))
        if rssi is not None and (best[0] is None or rssi > best[0]):
            best = (rssi, optional_number(gw.get("snr")))
    return best
