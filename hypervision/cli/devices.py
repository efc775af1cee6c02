"""``hypervision devices add|list|import|remove``: the LoRaWAN device registry."""

from __future__ import annotations

import json
from pathlib import Path

import click
from sqlalchemy.engine import Engine
from sqlmodel import Session

from hypervision import devices, migrations
from hypervision.cli.base import main
from hypervision.config import Settings
from hypervision.db import make_engine, session_scope
from hypervision.runtime import utc_now


def _engine() -> Engine:
    engine = make_engine(Settings().sqlalchemy_url)
    migrations.upgrade(engine)
    return engine


@main.group("devices")
def devices_group() -> None:
    """Manage the LoRaWAN device registry (DevEUI → source, domain, place, decoder)."""


@devices_group.command("add")
@click.argument("dev_eui")
@click.option("--source", required=True, help="Source id of the readings, e.g. waste:bin:rennes-042.")
@click.option(
    "--domain", required=True, help="lighting, waste, mask_drive, air, pollen, call_line, hospital."
)
@click.option("--zone", default=None)
@click.option("--lat", type=float, default=None)
@click.option("--lon", type=float, default=None)
@click.option("--decoder", default="object", show_default=True, help="object = the network server decodes.")
@click.option("--option", "options", multiple=True, metavar="KEY=VALUE", help="e.g. bin_depth_mm=1300.")
@click.option("--replace", is_flag=True, help="Overwrite an existing entry.")
def devices_add(dev_eui: str, options: tuple[str, ...], replace: bool, **fields: object) -> None:
    """Register the device DEV_EUI."""
    parsed: dict[str, object] = {}
    for item in options:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--option")
        try:
            parsed[key] = json.loads(value)  # numbers and booleans keep their type
        except json.JSONDecodeError:
            parsed[key] = value
    try:
        entry = devices.validate_entry({"dev_eui": dev_eui, "options": parsed, **fields}, where=dev_eui)
        with session_scope(_engine()) as session:
            devices.add_device(session, entry, now=utc_now(), replace=replace)
    except devices.DeviceError as err:
        raise click.ClickException(str(err)) from err
    click.echo(f"device {entry.dev_eui} registered as {entry.source} ({entry.decoder})")


@devices_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def devices_list(as_json: bool) -> None:
    """List registered devices."""
    with Session(_engine()) as session:
        rows = devices.list_devices(session)
    for row in rows:
        entry = devices.entry_of(row)
        if as_json:
            click.echo(entry.model_dump_json())
        else:
            place = entry.zone or "-"
            click.echo(
                f"{entry.dev_eui}  {entry.source:<32} {entry.domain.value:<10} {place:<20} {entry.decoder}"
            )


@devices_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def devices_import(path: Path) -> None:
    """Add or update every device of a YAML file (a list, or `devices:` with a list)."""
    try:
        with session_scope(_engine()) as session:
            result = devices.import_yaml(session, path.read_text(encoding="utf-8"), now=utc_now())
    except devices.DeviceError as err:
        raise click.ClickException(f"{path}: {err}") from err
    click.echo(f"{result.added} added, {result.updated} updated")


@devices_group.command("remove")
@click.argument("dev_eui")
def devices_remove(dev_eui: str) -> None:
    """Forget the device DEV_EUI (its uplinks will be dead-lettered)."""
    with session_scope(_engine()) as session:
        if not devices.remove_device(session, dev_eui):
            raise click.ClickException(f"device {dev_eui} is not registered")
    click.echo(f"device {dev_eui.lower()} removed")
