"""Mask-drive stock uploaded as CSV by the drive team, with errors that name the line and column."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from functools import partial

from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, decode_text, keep_going, number, text, timestamp
from adapters.source import SourceConfig
from adapters.stock_json import MAX_UNITS, SiteStock, hours_per_day, site_readings
from hypervision.domain import AttrValue, Domain, Reading

KIND = "stock_csv"
REQUIRED = ("site", "observed_at", "on_hand")
OPTIONAL = ("distributed_per_hour", "reserved", "queue_wait_min", "days_of_cover", "name")
MAX_ROWS = 10_000

__all__ = ["KIND", "REQUIRED", "fetch", "parse"]


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """``site, observed_at, on_hand`` then any of ``distributed_per_hour, reserved, queue_wait_min,
    days_of_cover, name``; ``,`` or ``;`` separated (a decimal comma is accepted with ``;``).

    Error fields read ``line 3.on_hand``: line numbers count the header as line 1.
    """
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.MASK_DRIVE)
    hours = hours_per_day(source)
    body = decode_text(payload)
    first = body.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(body, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [cell.strip().lower() for cell in next(reader, [])]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise AdapterError(f"missing column(s) {', '.join(missing)}", field="line 1")
        unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
        if unknown:
            raise AdapterError(f"unknown column(s) {', '.join(u[:20] for u in unknown[:5])}", field="line 1")
        out: list[Reading] = []
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if line > MAX_ROWS + 1:
                raise AdapterError(f"more than {MAX_ROWS} rows", field=f"line {line}")
            out.extend(keep_going(rejects, partial(_row, ctx, header, cells, line, hours)))
        return out
    except csv.Error as err:
        raise AdapterError(f"malformed CSV: {err}", field=f"line {reader.line_num}") from err


def _row(ctx: Context, header: list[str], cells: list[str], line: int, hours: float) -> list[Reading]:
    if len(cells) != len(header):
        raise AdapterError(f"{len(cells)} cells for {len(header)} columns", field=f"line {line}")
    row = dict(zip(header, (cell.strip() for cell in cells), strict=True))

    def where(column: str) -> str:
        return f"line {line}.{column}"

    def optional(column: str, hi: float = MAX_UNITS) -> float | None:
        raw = row.get(column, "")
        return number(raw, where(column), lo=0, hi=hi, text_ok=True) if raw else None

    site = text(row["site"], where("site"), max_len=100)
    observed = timestamp(row["observed_at"], where("observed_at"), tz=ctx.tz)
    stock = SiteStock(
        number(row["on_hand"], where("on_hand"), lo=0, hi=MAX_UNITS, text_ok=True),
        optional("distributed_per_hour"),
        optional("reserved"),
        optional("queue_wait_min", hi=24 * 60),
        optional("days_of_cover", hi=10_000),
    )
    attrs: dict[str, AttrValue] = {"line": line}
    if row.get("name"):
        attrs["name"] = row["name"][:100]
    return site_readings(ctx, site, observed, stock, path=f"line {line}", hours=hours, attrs=attrs)
