"""The consolidated picture: latest value per source and metric, and a status per domain (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from hypervision.domain import DOMAINS, Reading, Severity

# A source is stale when its newest reading is older than this; feeds publish at different paces
# (air quality hourly and late, hospital data daily), so each domain has its own allowance.
STALE_AFTER: Mapping[str, timedelta] = {
    "lighting": timedelta(minutes=30),
    "waste": timedelta(minutes=30),
    "mask_drive": timedelta(minutes=30),
    "air": timedelta(hours=3),
    "pollen": timedelta(hours=26),
    "call_line": timedelta(minutes=5),
    "hospital": timedelta(hours=36),
}
DEFAULT_STALE_AFTER = timedelta(hours=1)


def stale_after_seconds() -> dict[str, float]:
    """The allowances as sent to screens (hello frame), so they judge staleness as the server does."""
    return {domain: STALE_AFTER.get(domain, DEFAULT_STALE_AFTER).total_seconds() for domain in DOMAINS}


def picture_entry(reading: Reading, *, received_at: datetime | None = None) -> dict[str, Any]:
    """The mirror form of one series' latest reading."""
    entry = reading.model_dump(mode="json", exclude_defaults=True)
    entry["key"] = reading.key
    if received_at is not None:
        entry["received_at"] = received_at.isoformat()
    return entry


def is_stale(entry: Mapping[str, Any], now: datetime) -> bool:
    """Nothing received for longer than the domain allows (a daily index observed at midnight and
    received this morning is fresh: the arrival, not the observation time, tells a feed is alive)."""
    allowance = STALE_AFTER.get(str(entry.get("domain")), DEFAULT_STALE_AFTER)
    seen = datetime.fromisoformat(str(entry.get("received_at") or entry["observed_at"]))
    return now - seen > allowance


def domain_status(
    entries: Iterable[Mapping[str, Any]],
    open_alerts: Iterable[Mapping[str, Any]],
    now: datetime,
    stale_sources: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """Per domain: how many sources, how many stale, open alerts, worst severity and one status word.

    The status is the worst open alert's severity, ``stale`` when every source of the domain is stale
    and nothing is firing, ``ok`` otherwise, and ``unknown`` before any reading arrived.
    """
    forced_stale = set(stale_sources)
    summary: dict[str, dict[str, Any]] = {
        d: {"sources": set(), "stale": set(), "alerts": 0, "worst": None, "updated_at": None} for d in DOMAINS
    }
    for entry in entries:
        dom = summary.get(str(entry.get("domain")))
        if dom is None:
            continue
        source = str(entry["source"])
        dom["sources"].add(source)
        if source in forced_stale or is_stale(entry, now):
            dom["stale"].add(source)
        observed = str(entry["observed_at"])
        if dom["updated_at"] is None or datetime.fromisoformat(observed) > datetime.fromisoformat(
            dom["updated_at"]
        ):
            dom["updated_at"] = observed
    for alert in open_alerts:
        dom = summary.get(str(alert.get("domain")))
        if dom is None or alert.get("state") == "pending":
            continue
        dom["alerts"] += 1
        severity = Severity(alert["severity"])
        if dom["worst"] is None or severity.rank > dom["worst"].rank:
            dom["worst"] = severity
    result: dict[str, dict[str, Any]] = {}
    for name, dom in summary.items():
        sources, stale = dom["sources"], dom["stale"]
        # A source is stale only when all of its series are; a half-fresh source still reports.
        fresh = {s for s in sources if s not in stale}
        stale_only = stale - fresh
        if dom["worst"] is not None:
            status = dom["worst"].value
        elif not sources:
            status = "unknown"
        elif not fresh:
            status = "stale"
        else:
            status = "ok"
        result[name] = {
            "status": status,
            "sources": len(sources),
            "stale_sources": sorted(stale_only),
            "open_alerts": dom["alerts"],
            "updated_at": dom["updated_at"],
        }
    return result


def build_picture(
    entries: list[dict[str, Any]],
    open_alerts: list[dict[str, Any]],
    now: datetime,
    stale_sources: Iterable[str] = (),
) -> dict[str, Any]:
    """The whole picture as the REST API and a screen's first snapshot show it."""
    by_domain: dict[str, list[dict[str, Any]]] = {d: [] for d in DOMAINS}
    for entry in sorted(entries, key=lambda e: (str(e["source"]), str(e["metric"]))):
        by_domain.setdefault(str(entry["domain"]), []).append(entry)
    return {
        "generated_at": now.isoformat(),
        "domains": domain_status(entries, open_alerts, now, stale_sources),
        "readings": by_domain,
    }
