"""Hospital bed capacity from a FHIR R4 MeasureReport (HL7 SANER), alone or in a Bundle."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.errors import AdapterError
from adapters.http import fetch
from adapters.payload import (
    Context,
    Payload,
    as_list,
    as_obj,
    each,
    integer,
    join,
    load_json,
    need,
    text,
    timestamp,
)
from adapters.source import SourceConfig
from hypervision.domain import AttrValue, Domain, Reading

KIND = "fhir_beds"
POPULATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/measure-population"
UNITS = {"Beds": "beds", "Ventilators": "ventilators", "Encounters": "patients"}
# derived occupancy: metric -> (occupied code, capacity code)
OCCUPANCY = {"bedOccupancy": ("numBedsOcc", "numbeds"), "icuOccupancy": ("numICUBedsOcc", "numICUBeds")}
MAX_COUNT = 10_000_000

__all__ = ["KIND", "fetch", "parse"]


def _code(concept: Any, path: str) -> str:
    """The measured-value code of a CodeableConcept (not its measure-population role)."""
    for i, raw in enumerate(as_list(need(as_obj(concept, path), "coding", path), join(path, "coding"))):
        coding = as_obj(raw, join(join(path, "coding"), i))
        if coding.get("system") != POPULATION_SYSTEM and coding.get("code") is not None:
            return text(coding["code"], join(join(path, "coding"), i) + ".code")
    raise AdapterError("no measured-value code", field=join(path, "coding"))


def _report(ctx: Context, report: dict[str, Any], path: str, keyed: bool) -> list[Reading]:
    if report.get("resourceType") != "MeasureReport":
        raise AdapterError("expected a MeasureReport", field=join(path, "resourceType"))
    if report.get("status") == "entered-in-error":
        raise AdapterError("the report is marked entered-in-error", field=join(path, "status"))
    period: dict[str, Any] = report["period"] if isinstance(report.get("period"), dict) else {}
    stamp = period.get("end") or period.get("start") or report.get("date")
    observed = timestamp(stamp, join(path, "period.end"), tz=ctx.tz) if stamp else ctx.received_at
    subject = as_obj(report.get("subject") or {}, join(path, "subject"))
    ident = subject.get("identifier")
    key_raw = ident.get("value") if isinstance(ident, dict) else subject.get("reference")
    entity = text(key_raw, join(path, "subject"), max_len=100) if keyed and key_raw is not None else None
    if keyed and entity is None:
        entity = text(report.get("id"), join(path, "id"), max_len=100)
    attrs: dict[str, AttrValue] = {}
    if isinstance(subject.get("display"), str):
        attrs["subject"] = subject["display"][:100]
    counts: dict[str, float] = {}
    out: list[Reading] = []
    for g, graw in enumerate(as_list(need(report, "group", path), join(path, "group"))):
        gpath = join(join(path, "group"), g)
        group = as_obj(graw, gpath)
        unit = UNITS.get(_code(group["code"], join(gpath, "code")), "") if "code" in group else ""
        for p, praw in enumerate(as_list(group.get("population") or [], join(gpath, "population"))):
            ppath = join(join(gpath, "population"), p)
            population = as_obj(praw, ppath)
            if population.get("count") is None:
                continue  # data-absent-reason: the reporter does not supply this value
            metric = _code(need(population, "code", ppath), join(ppath, "code"))
            value = integer(population["count"], join(ppath, "count"), lo=0, hi=MAX_COUNT)
            counts[metric] = value
            out.append(
                ctx.reading(
                    entity=entity,
                    metric=metric,
                    value=value,
                    unit=unit,
                    observed_at=observed,
                    path=join(ppath, "count"),
                    attrs=attrs,
                )
            )
    for metric, (occupied, capacity) in OCCUPANCY.items():
        if counts.get(occupied) is not None and counts.get(capacity):
            share = round(counts[occupied] / counts[capacity] * 100, 1)
            out.append(
                ctx.reading(
                    entity=entity,
                    metric=metric,
                    value=share,
                    unit="%",
                    observed_at=observed,
                    path=path or "group",
                    attrs=attrs,
                )
            )
    return out


def parse(
    payload: Payload,
    *,
    received_at: datetime,
    source: SourceConfig | None = None,
    rejects: list[AdapterError] | None = None,
) -> list[Reading]:
    """SANER codes become metrics (``numbeds``, ``numBedsOcc``, ``numICUBeds``…); absent counts are
    skipped; ``bedOccupancy``/``icuOccupancy`` (%) are derived when both counts are present. A Bundle
    labels each report with its subject."""
    ctx = Context.of(source, received_at=received_at, default_prefix=KIND, default_domain=Domain.HOSPITAL)
    doc = as_obj(load_json(payload), "")
    if doc.get("resourceType") != "Bundle":
        return _report(ctx, doc, "", keyed=False)
    entries = as_list(doc.get("entry") or [], "entry")

    def entry(raw: Any, path: str) -> list[Reading]:
        resource = as_obj(need(as_obj(raw, path), "resource", path), join(path, "resource"))
        return _report(ctx, resource, join(path, "resource"), keyed=True)

    return each(entries, "entry", rejects, entry)
