"""Turn a decoded LoRaWAN frame into FIWARE-named readings for the device's registry entry."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from adapters.errors import AdapterError
from adapters.lorawan.decoders import decode
from adapters.lorawan.device import NETWORK_DECODED, DeviceEntry
from adapters.lorawan.uplink import Uplink
from adapters.lorawan.uplink import optional_number as _number
from hypervision.domain import Reading

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]{0,63}$")
# A network-server codec may emit anything: pass through at most this many unknown numeric keys.
MAX_PASSTHROUGH = 16

# decoded key -> (FIWARE metric, unit, factor applied to the raw value)
_SCALAR: dict[str, tuple[str, str, float]] = {
    "temperature": ("temperature", "°C", 1.0),
    "voltage": ("voltage", "V", 1.0),
    "power": ("activePower", "W", 1.0),
    "active_power": ("activePower", "W", 1.0),
    "power_factor": ("powerFactor", "", 0.01),
    "power_consumption": ("energyConsumed", "kWh", 0.001),
    "total_current": ("current", "A", 0.001),
}
_ALARMS = ("alarmLevel", "alarmFire", "alarmFall", "alarmBattery")
_DISTANCE_KEYS = ("distance", "level")
# Keys consumed by the mapping below or that describe the device rather than the world.
_CONSUMED = {*_SCALAR, *_ALARMS, *_DISTANCE_KEYS, "battery", "tilt", "position", "angle"}
_CONSUMED |= {"latitude", "longitude", "frameCounter"} | {f"switch_{n}" for n in range(1, 9)}


def decoded_fields(uplink: Uplink, device: DeviceEntry) -> tuple[dict[str, Any], bool]:
    """The decoded object, and whether it came from the network server (so may hold unknown keys)."""
    if uplink.decoded:
        return uplink.decoded, True
    if device.decoder == NETWORK_DECODED or not uplink.payload:
        return {}, False
    return decode(device.decoder, uplink.f_port, uplink.payload), False


def readings_for(uplink: Uplink, device: DeviceEntry, *, received_at: datetime) -> list[Reading]:
    """All readings one uplink gives: decoded measurements first, then the radio link quality."""
    fields, from_network = decoded_fields(uplink, device)
    when = uplink.observed_at or received_at
    lat, lon = device.lat, device.lon
    if lat is None and lon is None:
        lat, lon = _reported_position(fields)
    base: dict[str, Any] = {
        "source": device.source,
        "domain": device.domain,
        "observed_at": when,
        "zone": device.zone,
        "lat": lat,
        "lon": lon,
    }
    attrs: dict[str, Any] = {"devEui": uplink.dev_eui}
    if uplink.f_cnt is not None:
        attrs["fCnt"] = uplink.f_cnt
    values = _measurements(fields, device, passthrough=from_network)
    if uplink.rssi is not None:
        values.append(("rssi", uplink.rssi, "dBm", {}))
    if uplink.snr is not None:
        values.append(("snr", uplink.snr, "dB", {}))
    try:
        return [
            Reading(**base, metric=metric, value=value, unit=unit, attrs={**attrs, **extra})
            for metric, value, unit, extra in values
        ]
    except ValueError as err:
        raise AdapterError(f"decoded values do not make a valid reading: {err}", field="decoded") from err


Value = tuple[str, float | str, str, dict[str, Any]]


def _measurements(fields: dict[str, Any], device: DeviceEntry, *, passthrough: bool) -> list[Value]:
    out: list[Value] = []
    distance = next((_number(fields[k]) for k in _DISTANCE_KEYS if _number(fields.get(k)) is not None), None)
    if distance is not None:
        out.append(("distance", distance, "mm", {}))
        filling = filling_level(distance, device.options)
        if filling is not None:
            out.append(("fillingLevel", filling, "", {}))
    battery = fields.get("battery")
    if isinstance(battery, bool):
        # Older Dingtek codecs report the low-battery flag under `battery`.
        out.append(("alarmBattery", float(battery), "", {}))
    elif (percent := _number(battery)) is not None:
        out.append(("batteryLevel", round(percent / 100, 4), "", {}))
    for key, (metric, unit, factor) in _SCALAR.items():
        raw = _number(fields.get(key))
        if raw is not None:
            out.append((metric, round(raw * factor, 6), unit, {}))
    out.extend((name, float(fields[name]), "", {}) for name in _ALARMS if isinstance(fields.get(name), bool))
    status = container_status(fields)
    if status is not None:
        angle = _number(fields.get("angle"))
        out.append(("status", status, "", {} if angle is None else {"angle": angle}))
    switches = [fields[f"switch_{n}"] for n in range(1, 9) if f"switch_{n}" in fields]
    if switches:
        on = [n + 1 for n, state in enumerate(switches) if state == "on"]
        out.append(("powerState", "on" if on else "off", "", {"channelsOn": ",".join(map(str, on))}))
    if passthrough:
        extra: list[Value] = [
            (key, float(val), "", {})
            for key, val in fields.items()
            if key not in _CONSUMED and _NAME_RE.match(key) and _number(val) is not None
        ]
        out.extend(extra[:MAX_PASSTHROUGH])
    return out


def filling_level(distance_mm: float, options: dict[str, Any]) -> float | None:
    """FIWARE fillingLevel 0–1: the sensor looks down from the lid, so a short distance is a full bin."""
    depth = options.get("bin_depth_mm")
    if not isinstance(depth, int | float) or isinstance(depth, bool):
        return None
    full = float(options.get("full_distance_mm", 0) or 0)
    level = (float(depth) - distance_mm) / (float(depth) - full)
    return round(min(1.0, max(0.0, level)), 4)


def container_status(fields: dict[str, Any]) -> str | None:
    """FIWARE WasteContainer status, the most urgent first; None when the device says nothing of it."""
    if fields.get("alarmFire") is True:
        return "burning"
    if fields.get("alarmFall") is True:
        return "dropped"
    tilt = fields.get("tilt", fields.get("position"))
    if tilt == "tilt" or tilt is True:
        return "lidOpen"
    if "alarmFire" in fields or "alarmFall" in fields or tilt is not None:
        return "ok"
    return None


def _reported_position(fields: dict[str, Any]) -> tuple[float | None, float | None]:
    try:
        lat, lon = float(fields["latitude"]), float(fields["longitude"])
    except (KeyError, TypeError, ValueError):
        return None, None
    if -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0.0, 0.0):
        return lat, lon
    return None, None
