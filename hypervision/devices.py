"""The LoRaWAN device registry: add, list, look up, remove and import devices from YAML."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import yaml
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from adapters.lorawan.device import DeviceEntry
from hypervision.models.device import Device


class DeviceError(ValueError):
    """A registry entry or file that cannot be used, naming the entry and the field."""


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int


def entry_of(row: Device) -> DeviceEntry:
    return DeviceEntry.model_validate(
        {
            "dev_eui": row.dev_eui,
            "source": row.source,
            "domain": row.domain,
            "zone": row.zone,
            "lat": row.lat,
            "lon": row.lon,
            "decoder": row.decoder,
            "options": row.options,
        }
    )


def validate_entry(data: Any, *, where: str = "device") -> DeviceEntry:
    """A registry entry from plain data; the error names the entry and the field at fault."""
    try:
        return DeviceEntry.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        at = f"{where}.{field}" if field else where
        raise DeviceError(f"{at}: {first['msg']}") from err


def add_device(session: Session, entry: DeviceEntry, *, now: datetime, replace: bool = False) -> bool:
    """Store an entry; True when it was new. An existing DevEUI is an error unless `replace`."""
    row = session.get(Device, entry.dev_eui)
    if row is not None and not replace:
        raise DeviceError(f"device {entry.dev_eui} is already registered (as {row.source})")
    fields = entry.model_dump(exclude={"dev_eui"}, mode="json")
    if row is None:
        session.add(Device(dev_eui=entry.dev_eui, created_at=now, updated_at=now, **fields))
        return True
    for key, value in fields.items():
        setattr(row, key, value)
    row.updated_at = now
    session.add(row)
    return False


def remove_device(session: Session, dev_eui: str) -> bool:
    row = session.get(Device, dev_eui.lower())
    if row is None:
        return False
    session.delete(row)
    return True


def list_devices(session: Session) -> list[Device]:
    return list(session.exec(select(Device).order_by(Device.source, Device.dev_eui)).all())


def lookup(db: Engine, dev_eui: str) -> DeviceEntry | None:
    """The entry for a DevEUI (any case), or None when the device is not registered."""
    with Session(db) as session:
        row = session.get(Device, dev_eui.lower())
        return entry_of(row) if row is not None else None


def parse_yaml(text: str) -> list[DeviceEntry]:
    """Entries from a YAML list, or a mapping with a `devices:` list; every entry is checked first."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        raise DeviceError(f"invalid YAML{where}: {getattr(err, 'problem', None) or err}") from err
    items = doc.get("devices") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise DeviceError("the file must hold a list of devices (or `devices:` with a list)")
    entries = [validate_entry(item, where=f"devices[{i}]") for i, item in enumerate(items)]
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if entry.dev_eui in seen:
            raise DeviceError(f"devices[{i}].dev_eui: {entry.dev_eui} is also devices[{seen[entry.dev_eui]}]")
        seen[entry.dev_eui] = i
    return entries


def import_entries(session: Session, entries: Iterable[DeviceEntry], *, now: datetime) -> ImportResult:
    """Add or update every entry (an import is the registry's source of truth for those devices)."""
    added = updated = 0
    for entry in entries:
        if add_device(session, entry, now=now, replace=True):
            added += 1
        else:
            updated += 1
    return ImportResult(added=added, updated=updated)


def import_yaml(session: Session, text: str, *, now: datetime) -> ImportResult:
    return import_entries(session, parse_yaml(text), now=now)
