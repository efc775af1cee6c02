"""Logbook exports for the after-action review: CSV, and a printable, self-contained HTML report."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

COLUMNS = ("seq", "at", "kind", "actor", "ref", "summary", "text", "hash")


def _local(at: str, tz: ZoneInfo) -> str:
    return datetime.fromisoformat(at).astimezone(tz).strftime("%d/%m/%Y %H:%M:%S")


def to_csv(entries: Sequence[dict[str, Any]]) -> str:
    """One row per entry; times in UTC ISO 8601, so a spreadsheet sorts them without ambiguity."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for e in entries:
        writer.writerow([_cell(e.get(c)) for c in COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting like a formula would run in a spreadsheet (CSV injection): make it plain text.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_html(
    entries: Sequence[dict[str, Any]],
    *,
    title: str,
    period: str,
    generated_at: datetime,
    chain: str,
    tz: str = "Europe/Paris",
) -> str:
    """A printable report: entries in order, local times, the chain check, and nothing external."""
    zone = ZoneInfo(tz)
    rows = "\n".join(
        "<tr>"
        f"<td>{e['seq']}</td><td>{escape(_local(e['at'], zone))}</td><td>{escape(e['kind'])}</td>"
        f"<td>{escape(e['actor'])}</td><td>{escape(e['summary'])}"
        + (f"<div class=text>{escape(e['text'])}</div>" if e.get("text") else "")
        + ("<div class=text><em>texte anonymisé</em></div>" if e.get("anonymised") else "")
        + f"</td><td class=hash>{escape(e['hash'][:12])}</td></tr>"
        for e in entries
    )
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>
body{{font:11pt system-ui,sans-serif;margin:2em}} h1{{font-size:16pt}}
table{{border-collapse:collapse;width:100%}} th,td{{border:1px solid #999;padding:4px 6px;vertical-align:top}}
th{{background:#eee}} .text{{margin-top:4px;color:#333;white-space:pre-wrap}} .hash{{font-family:monospace}}
@media print{{body{{margin:0}} tr{{page-break-inside:avoid}}}}
</style></head><body>
<h1>{escape(title)}</h1>
<p>Période : {escape(period)} — {len(entries)} entrées — généré le
{escape(generated_at.astimezone(zone).strftime("%d/%m/%Y %H:%M"))} ({escape(tz)})</p>
<p>Chaîne d'intégrité : {escape(chain)}</p>
<table><thead><tr><th>#</th><th>Heure</th><th>Type</th><th>Auteur</th><th>Événement</th><th>Empreinte</th></tr>
</thead><tbody>
{rows}
</tbody></table></body></html>
"""
