"""The crisis logbook (main courante): append hash-chained entries, verify the chain, log alert moves.

Each entry's hash covers its canonical JSON (sequence number, time, kind, actor, reference, summary,
data, the hash of its free text, and the previous entry's hash). The free text itself is left out of
the chain on purpose: privacy retention may blank it later, and the kept ``text_hash`` still proves
what was written. Appends are serialised by updating the single head row first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from alerts.lifecycle import AlertEvent
from hypervision import bus
from hypervision.alert_store import AppliedMove
from hypervision.db import as_utc
from hypervision.domain import AlertState
from hypervision.events import Event, MirrorPushTail, Publication
from hypervision.models.logbook import LogbookEntry, LogbookHead

GENESIS = "0" * 64
TAIL_KEEP = 200


class Kind:
    """Entry kinds (plain strings in the table and the exports)."""

    ALERT = "alert"
    ACK = "ack"
    TASK = "task"
    SILENCE = "silence"
    RULE = "rule"
    NOTE = "note"


def text_digest(text: str | None) -> str:
    return hashlib.sha256((text or "").encode()).hexdigest()


def canonical(entry: LogbookEntry) -> bytes:
    body = {
        "seq": entry.seq,
        "at": as_utc(entry.at).isoformat(timespec="microseconds"),
        "kind": entry.kind,
        "actor": entry.actor,
        "ref": entry.ref,
        "summary": entry.summary,
        "data": entry.data,
        "text_hash": entry.text_hash,
        "prev_hash": entry.prev_hash,
    }
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def entry_hash(entry: LogbookEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


def entry_public(entry: LogbookEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "seq": entry.seq,
        "at": as_utc(entry.at).isoformat(),
        "kind": entry.kind,
        "actor": entry.actor,
        "ref": entry.ref,
        "summary": entry.summary,
        "text": entry.text,
        "data": entry.data,
        "anonymised": entry.anonymised_at is not None,
        "hash": entry.hash,
        "prev_hash": entry.prev_hash,
    }


def _advance_head(session: Session) -> tuple[int, str]:
    """Take the chain's head (a row lock on PostgreSQL, the write lock on SQLite): (new seq, prev hash)."""
    bump = update(LogbookHead).where(col(LogbookHead.id) == 1).values(seq=col(LogbookHead.seq) + 1)
    if session.exec(bump).rowcount == 0:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.exec(insert(LogbookHead).values(id=1, seq=0, hash=GENESIS).on_conflict_do_nothing())
        session.exec(bump)
    row = session.exec(select(LogbookHead.seq, LogbookHead.hash).where(col(LogbookHead.id) == 1)).one()
    return int(row[0]), str(row[1])


def append(
    session: Session,
    *,
    kind: str,
    actor: str,
    summary: str,
    at: datetime,
    ref: str | None = None,
    text: str | None = None,
    data: dict[str, Any] | None = None,
) -> tuple[LogbookEntry, Publication]:
    """Append one entry in the caller's transaction; returns it and what to publish after commit."""
    seq, prev = _advance_head(session)
    entry = LogbookEntry(
        seq=seq,
        at=as_utc(at),
        kind=kind,
        actor=actor[:128],
        ref=ref,
        summary=summary[:500],
        text=text,
        data=data or {},
        text_hash=text_digest(text),
        prev_hash=prev,
        hash="",
    )
    entry.hash = entry_hash(entry)
    session.add(entry)
    session.exec(update(LogbookHead).where(col(LogbookHead.id) == 1).values(hash=entry.hash))
    session.flush()
    return entry, publication_for(entry)


def publication_for(entry: LogbookEntry) -> Publication:
    public = entry_public(entry)
    return Publication(
        events=[Event("logbook.entry", "logbook", public)],
        mirror=[MirrorPushTail(bus.LOGBOOK_TAIL_KEY, public, keep=TAIL_KEEP)],
    )


# -- alert moves ---------------------------------------------------------------------------------

_MOVE_WORDS = {
    AlertEvent.FIRE: "raised",
    AlertEvent.ACK: "acknowledged",
    AlertEvent.RESOLVE: "resolved",
    AlertEvent.ESCALATE: "escalated",
}


def entries_from_moves(session: Session, moves: Sequence[AppliedMove], now: datetime) -> Publication:
    """Move hook: one entry per alert raised, acknowledged, escalated or resolved.

    Value updates and re-notifications are left out (they would drown the decisions), and so is a
    pending alert that cleared before it ever fired.
    """
    publication = Publication()
    for move in moves:
        word = _MOVE_WORDS.get(move.event)
        if word is None or (move.event == AlertEvent.RESOLVE and move.from_state == AlertState.PENDING):
            continue
        alert = move.alert
        by_person = move.change is None
        at = move.change.at if move.change is not None else now
        _, pub = append(
            session,
            kind=Kind.ACK if by_person else Kind.ALERT,
            actor=move.actor,
            summary=f"Alert #{alert['id']} {word} ({alert['severity']}): {alert['title']}",
            at=at,
            ref=f"alert:{alert['id']}",
            text=move.comment,
            data={
                "event": move.event.value,
                "from": move.from_state.value if move.from_state else None,
                "to": move.to_state.value,
                "rule_id": alert["rule_id"],
                "severity": alert["severity"],
            },
        )
        publication.extend(pub)
    return publication


def stored_for_replayed(session: Session, moves: Sequence[AppliedMove]) -> Publication:
    """Replay hook: the entries ``entries_from_moves`` stored for these moves in a run whose Redis
    commit died, published again (the chain already holds them: never appended twice)."""
    publication = Publication()
    for move in moves:
        if _MOVE_WORDS.get(move.event) is None or move.change is None:
            continue
        for entry in entries_about(session, f"alert:{move.alert['id']}"):
            if entry.data.get("event") == move.event.value and as_utc(entry.at) == as_utc(move.change.at):
                publication.extend(publication_for(entry))
    return publication


def entries_about(session: Session, ref: str) -> list[LogbookEntry]:
    """The entries about one thing (``alert:12``, ``task:7``), oldest first."""
    query = select(LogbookEntry).where(LogbookEntry.ref == ref).order_by(col(LogbookEntry.seq))
    return list(session.exec(query).all())


def rule_change(
    session: Session, *, actor: str, before: str | None, after: str, rules: int, at: datetime
) -> Publication:
    """One entry for a rule-set change (a reload that changed the digest), for the rules API to call."""
    was = f" (was {before[:12]})" if before else ""
    _, pub = append(
        session,
        kind=Kind.RULE,
        actor=actor,
        summary=f"Rules changed by {actor}: {rules} rules, digest {after[:12]}{was}",
        at=at,
        ref=f"rules:{after[:12]}",
        data={"event": "reload", "before": before, "after": after, "rules": rules},
    )
    return pub


# -- reading and verifying -----------------------------------------------------------------------


def entries(
    session: Session, *, start: datetime | None = None, end: datetime | None = None, limit: int | None = None
) -> list[LogbookEntry]:
    query = select(LogbookEntry)
    if start is not None:
        query = query.where(col(LogbookEntry.at) >= as_utc(start))
    if end is not None:
        query = query.where(col(LogbookEntry.at) < as_utc(end))
    query = query.order_by(col(LogbookEntry.seq))
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def _in_order(session: Session, batch: int = 1000) -> Iterator[LogbookEntry]:
    last = 0
    while True:
        rows = session.exec(
            select(LogbookEntry)
            .where(col(LogbookEntry.seq) > last)
            .order_by(col(LogbookEntry.seq))
            .limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


@dataclass(frozen=True)
class Verdict:
    """The outcome of a chain check: how many entries were checked and the first broken one."""

    checked: int
    broken_seq: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_seq is None

    def describe(self) -> str:
        if self.ok:
            return f"logbook chain intact: {self.checked} entries verified"
        return f"logbook chain broken at entry seq {self.broken_seq}: {self.reason}"


def verify(session: Session) -> Verdict:
    """Walk the chain from the first entry; stop at the first entry that does not hold."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for entry in _in_order(session):
        if entry.seq != expected_seq:
            return Verdict(checked, expected_seq, f"entry missing (next stored entry is seq {entry.seq})")
        if entry.prev_hash != prev:
            return Verdict(checked, entry.seq, "previous-hash link does not match the entry before it")
        if entry.anonymised_at is None and text_digest(entry.text) != entry.text_hash:
            return Verdict(checked, entry.seq, "free text was altered")
        if entry.anonymised_at is not None and entry.text is not None:
            return Verdict(checked, entry.seq, "anonymised entry still carries text")
        if entry_hash(entry) != entry.hash:
            return Verdict(checked, entry.seq, "content does not match its hash")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    head = session.exec(select(LogbookHead).where(col(LogbookHead.id) == 1)).first()
    if head is None and checked:
        return Verdict(checked, checked, "the chain's head row is missing")
    if head is not None and (head.seq != checked or head.hash != prev):
        return Verdict(checked, checked + 1, f"entries up to seq {head.seq} were written, {checked} remain")
    return Verdict(checked)
