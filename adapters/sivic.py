"""French SI-VIC hospital figures (data.gouv.fr ``donnees-hospitalieres-covid19``): ``;``-separated CSV."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from functools import partial

from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import Context, Payload, decode_text, keep_going, number, text, timestamp
from adapters.source import SourceConfig
from hypervision.domain import Domain, Reading

KIND = "sivic"
# column -> (metric, unit, meaning kept in attrs)
COLUMNS = {
    "hosp": ("hospitalized", "patients", "current"),
    "rea": ("intensiveCare", "patients", "current"),
    "rad": ("discharged", "patients", "cumulative"),
    "dc": ("deaths", "patients", "cumulative"),
}
REQUIRED = ("dep", "sexe", "jour", "hosp", "rea")
ALL_SEXES = "0"
MAX_COUNT = 1_000_000

__all__ = ["KIND", "fetch", "parse"]


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """The latest day per département, both sexes together (``sexe`` 0); the file is the whole
    history, so earlier days are read only to find the latest. ``options.departments`` filters."""
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.HOSPITAL)
    wanted = source.option("departments") if source else None
    if wanted is not None and not (isinstance(wanted, list) and all(isinstance(d, str) for d in wanted)):
        raise AdapterError("options.departments must be a list of codes")
    reader = csv.reader(io.StringIO(decode_text(payload), newline=""), delimiter=";", strict=True)
    latest: dict[str, tuple[str, dict[str, str], int]] = {}
    try:
        header = [cell.strip().strip('"').lower() for cell in next(reader, [])]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise AdapterError(f"missing column(s) {', '.join(missing)}", field="line 1")
        width = len(header)
        dep_at, sexe_at, day_at = header.index("dep"), header.index("sexe"), header.index("jour")
        # the file holds every day since 2020: look at a row's three key cells before building it
        for cells in reader:
            if len(cells) != width:
                if any(c.strip() for c in cells):
                    err = AdapterError(
                        f"{len(cells)} cells for {width} columns", field=f"line {reader.line_num}"
                    )
                    keep_going(rejects, partial(_raise, err))
                continue
            dep, day = cells[dep_at].strip(), cells[day_at].strip()
            if cells[sexe_at].strip() != ALL_SEXES or (wanted is not None and dep not in wanted):
                continue
            # ISO dates sort as text, and the file is not guaranteed to be ordered
            if dep not in latest or day > latest[dep][0]:
                row = dict(zip(header, (c.strip() for c in cells), strict=True))
                latest[dep] = (day, row, reader.line_num)
    except csv.Error as err:
        raise AdapterError(f"malformed CSV: {err}", field=f"line {reader.line_num}") from err
    out: list[Reading] = []
    for dep, (_day, row, line) in latest.items():
        out.extend(keep_going(rejects, partial(_readings, ctx, dep, row, line)))
    return out


def _raise(err: AdapterError) -> list[Reading]:
    raise err


def _readings(ctx: Context, dep: str, row: dict[str, str], line: int) -> list[Reading]:
    code = text(dep, f"line {line}.dep", max_len=3)
    observed = timestamp(row["jour"], f"line {line}.jour", tz=ctx.tz)
    out = []
    for column, (metric, unit, meaning) in COLUMNS.items():
        if not row.get(column):
            continue
        value = number(row[column], f"line {line}.{column}", lo=0, hi=MAX_COUNT, text_ok=True)
        out.append(
            ctx.reading(
                entity=code,
                metric=metric,
                value=value,
                unit=unit,
                observed_at=observed,
                path=f"line {line}.{column}",
                attrs={"dep": code, "column": column, "kind": meaning},
            )
        )
    return out
